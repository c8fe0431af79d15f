//! Mutual TLS with certificates made here (rcgen) and a real TLS client: the good
//! client and the identity its handler saw; no certificate, another CA, expired and
//! not-yet-valid certificates refused in the handshake; mTLS-only operations refused
//! on a plain listener of the same service; PEM errors that name the file.

use secure_api::{
    App,
    hosts::TrustedHosts,
    mtls::{ClientCert, MtlsConfig, MtlsListener},
    poem::Route,
    poem_openapi::{OpenApiService, payload::Json},
    prelude::*,
};
use secure_api_tests::{
    raw_http, serve_endpoint,
    tls::{Ca, Pem, TlsAnswer, fingerprint, tls_get, write_temp},
};
use serde_json::{Value, json};
use std::net::SocketAddr;

struct ServiceApi;

#[secure_api]
impl ServiceApi {
    /// Who called, by certificate
    #[oai(path = "/service-endpoint", method = "get")]
    async fn service(&self, peer: ClientCert) -> Json<Value> {
        Json(json!({
            "common_name": peer.common_name(),
            "dns_names": peer.dns_names(),
            "uris": peer.uris(),
            "fingerprint": peer.fingerprint_sha256(),
        }))
    }

    /// mTLS only, certificate unread
    #[oai(path = "/internal", method = "get")]
    #[requires_client_cert]
    async fn internal(&self) -> Json<&'static str> {
        Json("internal")
    }

    /// Anyone
    #[oai(path = "/open", method = "get")]
    async fn open(&self) -> Json<&'static str> {
        Json("open")
    }
}

struct Service {
    ca: Ca,
    mtls: SocketAddr,
    plain: String,
}

fn app() -> App<Route> {
    let api = OpenApiService::new(ServiceApi, "mtls", "1.0");
    let spec = api.spec_endpoint();
    let routes = Route::new().at("/openapi.json", spec).nest("/", api);
    App::new(routes).trusted_hosts(TrustedHosts::new(["localhost", "127.0.0.1"]).unwrap())
}

/// One service on two listeners: mutual TLS and plain HTTP.
async fn serve() -> Service {
    let ca = Ca::new("clients CA");
    let server = ca.server();
    let config = MtlsConfig::from_pem(
        server.cert.as_bytes(),
        server.key.as_bytes(),
        ca.cert_pem().as_bytes(),
    )
    .expect("mTLS config");
    let listener = MtlsListener::bind("127.0.0.1:0", &config).await.unwrap();
    let mtls = listener.local_addr().unwrap();
    tokio::spawn(listener.run(app()));
    Service {
        plain: serve_endpoint(app()).await,
        ca,
        mtls,
    }
}

impl Service {
    async fn get(&self, client: Option<&Pem>, path: &str) -> Result<TlsAnswer, String> {
        tls_get(self.mtls, &self.ca.cert_pem(), client, path, &[]).await
    }
}

#[tokio::test]
async fn a_good_client_reaches_the_handler_with_its_identity() {
    let service = serve().await;
    let client = service.ca.client(
        "billing-service",
        &["billing.internal"],
        &["spiffe://example.org/billing"],
        (2020, 2100),
    );
    let answer = service
        .get(Some(&client), "/service-endpoint")
        .await
        .unwrap();
    assert_eq!(answer.status, 200, "{answer:?}");
    let body: Value = serde_json::from_str(&answer.body).unwrap();
    assert_eq!(
        body,
        json!({
            "common_name": "billing-service",
            "dns_names": ["billing.internal"],
            "uris": ["spiffe://example.org/billing"],
            "fingerprint": fingerprint(&client.cert),
        })
    );
    // The service-wide protections hold on this listener too.
    assert_eq!(answer.headers["x-frame-options"], "DENY");
    let internal = service.get(Some(&client), "/internal").await.unwrap();
    assert_eq!(internal.status, 200);
    let open = service.get(Some(&client), "/open").await.unwrap();
    assert_eq!(open.status, 200);
}

/// The handshake fails with the TLS alert `alert` (with TLS 1.3, the client learns it
/// on its first read, so it surfaces as the request's error).
async fn assert_refused(service: &Service, client: Option<&Pem>, alert: &str) {
    match service.get(client, "/open").await {
        Err(error) => assert!(
            error.contains(&format!("AlertReceived({alert})")),
            "expected {alert}: {error}"
        ),
        Ok(answer) => panic!("expected {alert}, served: {answer:?}"),
    }
}

#[tokio::test]
async fn no_certificate_is_refused_in_the_handshake() {
    let service = serve().await;
    assert_refused(&service, None, "CertificateRequired").await;
}

#[tokio::test]
async fn a_certificate_from_another_ca_is_refused() {
    let service = serve().await;
    let other = Ca::new("some other CA");
    assert_refused(&service, Some(&other.valid_client("intruder")), "UnknownCA").await;
    // One whose CA has the right name but another key fails its signature check.
    let impostor = Ca::new("clients CA");
    assert_refused(
        &service,
        Some(&impostor.valid_client("billing-service")),
        "DecryptError",
    )
    .await;
}

#[tokio::test]
async fn expired_and_not_yet_valid_certificates_are_refused() {
    let service = serve().await;
    let expired = service.ca.client("old", &[], &[], (2015, 2020));
    assert_refused(&service, Some(&expired), "CertificateExpired").await;
    let future = service.ca.client("early", &[], &[], (2090, 2100));
    assert_refused(&service, Some(&future), "CertificateExpired").await;
}

#[tokio::test]
async fn mtls_only_operations_are_refused_on_the_plain_listener() {
    let service = serve().await;
    let stolen = service.ca.valid_client("billing-service");
    let forwarded: String = stolen
        .cert
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    for path in ["/service-endpoint", "/internal"] {
        for header in [
            String::new(),
            // Headers of TLS-terminating proxies are never believed.
            format!("Client-Cert: :{forwarded}:\r\n"),
            format!("X-SSL-Client-Cert: {forwarded}\r\n"),
        ] {
            let raw = raw_http(
                &service.plain,
                &format!(
                    "GET {path} HTTP/1.1\r\nHost: localhost\r\n{header}Connection: close\r\n\r\n"
                ),
            )
            .await;
            assert!(raw.starts_with("HTTP/1.1 403 "), "{path} {header}: {raw}");
            assert!(raw.contains("application/problem+json"), "{raw}");
        }
    }
    let open = raw_http(
        &service.plain,
        "GET /open HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(open.starts_with("HTTP/1.1 200 "), "{open}");
}

#[tokio::test]
async fn the_document_shows_the_refusal() {
    let service = serve().await;
    let doc: Value = reqwest::get(format!("{}/openapi.json", service.plain))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for path in ["/service-endpoint", "/internal"] {
        let forbidden = &doc["paths"][path]["get"]["responses"]["403"];
        assert!(
            forbidden["description"]
                .as_str()
                .unwrap()
                .contains("mutual TLS"),
            "{path}: {forbidden:#}"
        );
    }
    assert!(doc["paths"]["/open"]["get"]["responses"]["403"].is_null());
}

#[test]
fn pem_problems_name_the_file_and_the_problem() {
    let ca = Ca::new("clients CA");
    let server = ca.server();
    let other = ca.server();
    let cert = write_temp("server.crt", &server.cert);
    let key = write_temp("server.key", &server.key);
    let other_key = write_temp("other.key", &other.key);
    let ca_file = write_temp("ca.crt", &ca.cert_pem());
    let garbage = write_temp(
        "garbage.pem",
        "-----BEGIN CERTIFICATE-----\nnot base64!!\n-----END CERTIFICATE-----\n",
    );
    let empty = write_temp("empty.pem", "");
    let missing = cert.with_file_name("missing.crt");
    let show = |p: &std::path::PathBuf| p.display().to_string();

    assert!(MtlsConfig::from_pem_files(&cert, &key, &ca_file).is_ok());
    let cases = [
        (
            MtlsConfig::from_pem_files(&missing, &key, &ca_file),
            show(&missing),
            "cannot read",
        ),
        (
            MtlsConfig::from_pem_files(&key, &key, &ca_file),
            show(&key),
            "holds no certificate",
        ),
        (
            MtlsConfig::from_pem_files(&cert, &cert, &ca_file),
            show(&cert),
            "holds no private key",
        ),
        (
            MtlsConfig::from_pem_files(&cert, &other_key, &ca_file),
            show(&other_key),
            "does not belong to the certificate",
        ),
        (
            MtlsConfig::from_pem_files(&garbage, &key, &ca_file),
            show(&garbage),
            "not valid PEM",
        ),
        (
            MtlsConfig::from_pem_files(&cert, &key, &empty),
            show(&empty),
            "no PEM section at all",
        ),
    ];
    for (result, file, problem) in cases {
        let error = result.unwrap_err();
        assert_eq!(error.file(), file);
        let message = error.to_string();
        assert!(message.starts_with(&format!("{file}: ")), "{message}");
        assert!(message.contains(problem), "{message}");
    }
    // A key where a certificate belongs says what it found.
    let error = MtlsConfig::from_pem_files(&key, &key, &ca_file)
        .unwrap_err()
        .to_string();
    assert!(error.ends_with("only a PRIVATE KEY"), "{error}");
}
