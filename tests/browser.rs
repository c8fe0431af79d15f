//! The flagship's interactive docs in a real browser: headless Chromium, driven
//! through chromedriver over the W3C WebDriver protocol (plain HTTP and JSON), opens
//! `/docs`, authorizes as alice with the OAuth2 password flow, runs "Try it out" on
//! `GET /users/me/` and sees her answer. A screenshot of that page is kept in
//! `target/test-artifacts/docs-try-it-out.png`.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`apt-get install -y chromium
//! chromium-driver`); `.ci/run` installs them.

#[path = "common/flagship.rs"]
mod flagship_service;

use serde_json::{Value, json};
use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
/// How long the page may take to show what a step waits for.
const PATIENCE: Duration = Duration::from_secs(30);
/// The W3C name of an element reference in JSON.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A chromedriver process, stopped when dropped.
struct Chromedriver {
    child: Child,
    base: String,
}

impl Chromedriver {
    async fn start() -> Chromedriver {
        for binary in [CHROMEDRIVER, CHROMIUM] {
            assert!(
                Path::new(binary).exists(),
                "{binary} is missing: the browser test needs Debian's Chromium and its \
                 driver; install them with `apt-get install -y chromium chromium-driver`"
            );
        }
        let port = free_port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {CHROMEDRIVER}: {error}"));
        let driver = Chromedriver {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        let client = reqwest::Client::new();
        let started = Instant::now();
        loop {
            let status = client.get(format!("{}/status", driver.base)).send().await;
            if let Ok(status) = status
                && let Ok(body) = status.json::<Value>().await
                && body["value"]["ready"] == true
            {
                return driver;
            }
            assert!(
                started.elapsed() < PATIENCE,
                "chromedriver did not become ready on port {port}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// One browser session.
struct Session {
    client: reqwest::Client,
    url: String,
}

impl Session {
    async fn new(driver: &Chromedriver, profile: &Path) -> Session {
        let client = reqwest::Client::new();
        let capabilities = json!({
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "goog:chromeOptions": {
                        "binary": CHROMIUM,
                        "args": [
                            "--headless",
                            "--no-sandbox",
                            "--disable-gpu",
                            "--disable-quic",
                            "--no-first-run",
                            "--disable-background-networking",
                            "--disable-component-update",
                            "--disable-sync",
                            "--window-size=1280,1600",
                            format!("--user-data-dir={}", profile.display()),
                        ],
                    },
                },
            },
        });
        let response: Value = client
            .post(format!("{}/session", driver.base))
            .json(&capabilities)
            .send()
            .await
            .expect("chromedriver answers")
            .json()
            .await
            .unwrap();
        let id = response["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no browser session: {response}"));
        Session {
            client,
            url: format!("{}/session/{id}", driver.base),
        }
    }

    async fn command(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self.client.request(method, format!("{}{path}", self.url));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response: Value = request.send().await.unwrap().json().await.unwrap();
        response["value"].clone()
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.command(reqwest::Method::POST, path, Some(body)).await
    }

    async fn get(&self, path: &str) -> Value {
        self.command(reqwest::Method::GET, path, None).await
    }

    async fn open(&self, url: &str) {
        self.post("/url", json!({ "url": url })).await;
    }

    /// The first element `xpath` finds, once the page shows one.
    async fn wait_for(&self, xpath: &str) -> String {
        let started = Instant::now();
        loop {
            let found = self
                .post("/element", json!({ "using": "xpath", "value": xpath }))
                .await;
            if let Some(id) = found[ELEMENT].as_str() {
                return id.to_owned();
            }
            if started.elapsed() > PATIENCE {
                let shot = self.screenshot("docs-failure.png").await;
                panic!(
                    "the page never showed {xpath} ({found}); what it showed is in {}",
                    shot.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn click(&self, xpath: &str) {
        let element = self.wait_for(xpath).await;
        self.post(&format!("/element/{element}/click"), json!({}))
            .await;
    }

    async fn type_into(&self, xpath: &str, text: &str) {
        let element = self.wait_for(xpath).await;
        self.post(
            &format!("/element/{element}/value"),
            json!({ "text": text }),
        )
        .await;
    }

    async fn text(&self, element: &str) -> String {
        self.get(&format!("/element/{element}/text"))
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    async fn scroll_to(&self, element: &str) {
        self.post(
            "/execute/sync",
            json!({
                "script": "arguments[0].scrollIntoView({block: 'start'});",
                "args": [{ ELEMENT: element }],
            }),
        )
        .await;
    }

    /// Saves a PNG of the viewport under `target/test-artifacts/`.
    async fn screenshot(&self, name: &str) -> PathBuf {
        use base64::Engine;
        let png = self.get("/screenshot").await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().expect("a base64 screenshot"))
            .unwrap();
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/test-artifacts");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, png).unwrap();
        path
    }

    async fn end(self) {
        let _ = self.client.delete(&self.url).send().await;
    }
}

/// The operation block of `GET path` in Swagger UI.
fn operation(path: &str) -> String {
    format!("//div[contains(@class, 'opblock-get')][.//*[@data-path='{path}']]")
}

#[tokio::test]
async fn docs_authorize_as_alice_and_try_users_me() {
    let addr = flagship_service::start().await;
    let base = format!("http://{addr}");

    let driver = Chromedriver::start().await;
    let profile = std::env::temp_dir().join(format!(
        "secure-api-browser-{}-{}",
        std::process::id(),
        addr.port()
    ));
    let browser = Session::new(&driver, &profile).await;
    browser.open(&format!("{base}/docs")).await;

    // Authorize: alice's credentials in the OAuth2 password form, posted to /token.
    browser
        .click("//button[contains(@class, 'authorize') and not(ancestor::div[contains(@class, 'modal-ux')])]")
        .await;
    browser
        .type_into("//input[@id='oauth_username']", "alice")
        .await;
    browser
        .type_into("//input[@id='oauth_password']", "password")
        .await;
    let oauth2 = "//div[contains(@class, 'auth-container')][.//input[@id='oauth_username']]";
    browser
        .click(&format!("{oauth2}//button[contains(@class, 'authorize')]"))
        .await;
    // Authorized: the form gives way to a Logout button (only the OAuth2 scheme has
    // one: no API key was given).
    browser
        .wait_for("//div[contains(@class, 'modal-ux')]//button[normalize-space()='Logout']")
        .await;
    browser
        .click("//div[contains(@class, 'modal-ux')]//button[contains(@class, 'close-modal')]")
        .await;

    // GET /users/me/: expand, Try it out, Execute.
    let me = operation("/users/me/");
    browser
        .click(&format!(
            "{me}//*[contains(@class, 'opblock-summary-path')]"
        ))
        .await;
    browser
        .click(&format!("{me}//button[contains(@class, 'try-out__btn')]"))
        .await;
    browser
        .click(&format!("{me}//button[contains(@class, 'execute')]"))
        .await;
    let answer = format!(
        "{me}//table[contains(@class, 'live-responses-table')]//tr[contains(concat(' ', normalize-space(@class), ' '), ' response ')]"
    );
    let status = browser
        .wait_for(&format!(
            "{answer}//td[contains(@class, 'response-col_status')]"
        ))
        .await;
    let body = browser
        .wait_for(&format!(
            "{answer}//td[contains(@class, 'response-col_description')]//pre"
        ))
        .await;
    // The screenshot shows the operation's title down to the answer.
    let block = browser.wait_for(&me).await;
    browser.scroll_to(&block).await;
    let shot = browser.screenshot("docs-try-it-out.png").await;
    let status = browser.text(&status).await;
    let body = browser.text(&body).await;
    browser.end().await;
    drop(driver);
    let _ = std::fs::remove_dir_all(&profile);

    assert_eq!(status.trim(), "200", "screenshot: {}", shot.display());
    let user: Value = serde_json::from_str(&body)
        .unwrap_or_else(|_| panic!("a JSON user in the response panel, got {body:?}"));
    assert_eq!(user["username"], "alice", "{body}");
    assert_eq!(user["full_name"], "Alice Smith", "{body}");
}
