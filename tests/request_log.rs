//! The request log over real HTTP: the flagship, a subscriber that captures every
//! event of every target at TRACE, one line per request with its fields, and no
//! secret anywhere in what was captured.

#[path = "common/flagship.rs"]
mod flagship_service;

use flagship_service::token;
use reqwest::StatusCode;
// `#[handler]` names `poem::...`: this makes the name resolve through secure-api.
use secure_api::poem;
use secure_api::{
    App,
    poem::{
        Route, Server, handler,
        listener::{Acceptor, Listener, TcpListener},
    },
};
use std::{
    io::Write,
    sync::{Arc, Mutex, OnceLock},
};

/// Everything every subscriber event wrote, as text.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn take(&self) -> String {
        let bytes = std::mem::take(&mut *self.0.lock().unwrap());
        String::from_utf8(bytes).expect("log output is UTF-8")
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The process-wide subscriber (the server's tasks run on other threads, so a
/// thread-local one would miss them), and a lock: one test at a time owns its output.
fn capture() -> (&'static Captured, &'static tokio::sync::Mutex<()>) {
    static CAPTURED: OnceLock<(Captured, tokio::sync::Mutex<()>)> = OnceLock::new();
    let (captured, lock) = CAPTURED.get_or_init(|| {
        let captured = Captured::default();
        let writer = captured.clone();
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .without_time()
            .with_writer(move || writer.clone())
            .init();
        (captured, tokio::sync::Mutex::new(()))
    });
    (captured, lock)
}

/// The request events of `output`, each as its `name=value` fields.
fn request_lines(output: &str) -> Vec<Vec<(String, String)>> {
    output
        .lines()
        .filter(|line| line.contains(" secure_api::request: "))
        .map(|line| {
            let fields = line
                .split(" secure_api::request: request ")
                .nth(1)
                .unwrap_or("");
            fields
                .split(' ')
                .filter_map(|pair| pair.split_once('='))
                .map(|(name, value)| (name.to_owned(), value.trim_matches('"').to_owned()))
                .collect()
        })
        .collect()
}

fn field<'a>(line: &'a [(String, String)], name: &str) -> Option<&'a str> {
    line.iter()
        .find(|(field, _)| field == name)
        .map(|(_, value)| value.as_str())
}

#[tokio::test]
async fn one_line_per_request_with_its_fields_and_no_secret() {
    let (captured, lock) = capture();
    let _owned = lock.lock().await;
    let base = format!("http://{}", flagship_service::start().await);
    let client = reqwest::Client::new();
    // The start announces the demo data; only what requests write is under test.
    captured.take();

    // Every kind of answer, each with the secrets a client sends.
    let mut expected: Vec<(&str, &str, u16, Option<&str>)> = Vec::new();
    let alice = token(&client, &base, "alice", "password").await;
    expected.push(("POST", "/token", 200, Some("alice")));
    let john = token(&client, &base, "john", "secret").await;
    expected.push(("POST", "/token", 200, Some("john")));

    let new_password = "Unl1kely-P4ssw0rd!";
    let created = client
        .post(format!("{base}/users/"))
        .bearer_auth(&alice)
        .json(&serde_json::json!({
            "username": "carol_logs",
            "email": "carol@example.com",
            "password": new_password,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    expected.push(("POST", "/users/", 201, Some("alice")));
    let carol = token(&client, &base, "carol_logs", new_password).await;
    expected.push(("POST", "/token", 200, Some("carol_logs")));

    let wrong_password = "Wr0ng-Guess-7731";
    let refused = client
        .post(format!("{base}/token"))
        .form(&flagship_service::password_grant("alice", wrong_password))
        .send()
        .await
        .unwrap();
    assert!(refused.status().is_client_error());
    expected.push(("POST", "/token", refused.status().as_u16(), None));

    let me = client
        .get(format!("{base}/users/me/"))
        .bearer_auth(&carol)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    expected.push(("GET", "/users/me/", 200, Some("carol_logs")));

    let forbidden = client
        .post(format!("{base}/users/"))
        .bearer_auth(&john)
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(forbidden.status(), StatusCode::FORBIDDEN);
    expected.push(("POST", "/users/", 403, Some("john")));

    let forged = format!("{alice}x");
    let unauthorized = client
        .get(format!("{base}/users/me/"))
        .bearer_auth(&forged)
        .send()
        .await
        .unwrap();
    assert_eq!(unauthorized.status(), StatusCode::UNAUTHORIZED);
    expected.push(("GET", "/users/me/", 401, None));

    let by_query = client
        .get(format!("{base}/api/resource?api-key=valid_api_key_1"))
        .send()
        .await
        .unwrap();
    assert_eq!(by_query.status(), StatusCode::OK);
    expected.push(("GET", "/api/resource", 200, Some("service1")));
    let by_header = client
        .get(format!("{base}/api/resource"))
        .header("x-api-key", "valid_api_key_2")
        .send()
        .await
        .unwrap();
    assert_eq!(by_header.status(), StatusCode::OK);
    expected.push(("GET", "/api/resource", 200, Some("service2")));
    let wrong_cookie = "api-key=not_a_key_9182";
    let by_cookie = client
        .get(format!("{base}/api/resource"))
        .header("cookie", wrong_cookie)
        .send()
        .await
        .unwrap();
    assert!(by_cookie.status().is_client_error());
    expected.push(("GET", "/api/resource", by_cookie.status().as_u16(), None));

    let not_found = client
        .get(format!("{base}/no/such/page?token=query-secret-5521"))
        .send()
        .await
        .unwrap();
    assert_eq!(not_found.status(), StatusCode::NOT_FOUND);
    expected.push(("GET", "/no/such/page", 404, None));

    let too_large = client
        .post(format!("{base}/users/"))
        .bearer_auth(&alice)
        .header("content-type", "application/json")
        .body(vec![b' '; 2 * 1024 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(too_large.status(), StatusCode::PAYLOAD_TOO_LARGE);
    expected.push(("POST", "/users/", 413, Some("alice")));

    let bad_host = client
        .get(format!("{base}/api/data"))
        .header("host", "evil.test")
        .send()
        .await
        .unwrap();
    assert_eq!(bad_host.status(), StatusCode::BAD_REQUEST);
    expected.push(("GET", "/api/data", 400, None));

    // `POST /api/sensitive` admits 10 a minute per client IP: the 11th is refused.
    for _ in 0..10 {
        let admitted = client
            .post(format!("{base}/api/sensitive"))
            .send()
            .await
            .unwrap();
        assert_eq!(admitted.status(), StatusCode::OK);
        expected.push(("POST", "/api/sensitive", 200, None));
    }
    let limited = client
        .post(format!("{base}/api/sensitive"))
        .send()
        .await
        .unwrap();
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    expected.push(("POST", "/api/sensitive", 429, None));

    let output = captured.take();
    let lines = request_lines(&output);
    assert_eq!(
        lines.len(),
        expected.len(),
        "one request event per request:\n{output}"
    );
    for (line, (method, path, status, principal)) in lines.iter().zip(&expected) {
        let context = format!("{line:?} should be {method} {path} {status} {principal:?}");
        assert_eq!(field(line, "method"), Some(*method), "{context}");
        assert_eq!(field(line, "path"), Some(*path), "{context}");
        assert_eq!(
            field(line, "status"),
            Some(&*status.to_string()),
            "{context}"
        );
        assert_eq!(field(line, "principal"), *principal, "{context}");
        assert_eq!(field(line, "client_ip"), Some("127.0.0.1"), "{context}");
        let latency: f64 = field(line, "latency_ms")
            .and_then(|ms| ms.parse().ok())
            .unwrap_or_else(|| panic!("latency_ms in milliseconds: {context}"));
        assert!(latency >= 0.0, "{context}");
    }

    let secrets = [
        alice.as_str(),
        john.as_str(),
        carol.as_str(),
        forged.as_str(),
        // A JWT's signature part alone is as good as the token for nobody, but its
        // header part is the same for every token: look for what is unique.
        alice.rsplit('.').next().unwrap(),
        new_password,
        wrong_password,
        "valid_api_key_1",
        "valid_api_key_2",
        "not_a_key_9182",
        "query-secret-5521",
        "api-key=",
        "token=",
    ];
    for secret in secrets {
        assert!(
            !output.contains(secret),
            "{secret:?} appears in the logs:\n{output}"
        );
    }
}

#[handler]
fn hello() -> &'static str {
    "hello"
}

#[tokio::test]
async fn an_app_without_its_request_log_writes_none() {
    let (captured, lock) = capture();
    let _owned = lock.lock().await;
    let serve = |app: App<Route>| async move {
        let acceptor = TcpListener::bind("127.0.0.1:0")
            .into_acceptor()
            .await
            .unwrap();
        let addr = acceptor.local_addr()[0].as_socket_addr().copied().unwrap();
        tokio::spawn(Server::new_with_acceptor(acceptor).run(app));
        format!("http://{addr}/hello")
    };
    let quiet = serve(App::new(Route::new().at("/hello", hello)).request_log(false)).await;
    let logged = serve(App::new(Route::new().at("/hello", hello))).await;
    captured.take();

    assert_eq!(reqwest::get(&quiet).await.unwrap().status(), StatusCode::OK);
    assert!(request_lines(&captured.take()).is_empty());

    assert_eq!(
        reqwest::get(&logged).await.unwrap().status(),
        StatusCode::OK
    );
    let output = captured.take();
    let lines = request_lines(&output);
    assert_eq!(lines.len(), 1, "{output}");
    // No limiter among the request data: the peer address is the client.
    assert_eq!(field(&lines[0], "client_ip"), Some("127.0.0.1"), "{output}");
    assert_eq!(field(&lines[0], "principal"), None, "{output}");
}
