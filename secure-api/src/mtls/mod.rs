//! Mutual TLS: a listener that requires a client certificate signed by a configured
//! CA, and the verified peer identity handed to handlers as a typed parameter.
//!
//! ```no_run
//! use secure_api::mtls::{ClientCert, MtlsConfig, MtlsListener};
//! use secure_api::prelude::*;
//! use secure_api::poem_openapi::payload::PlainText;
//!
//! struct ServiceApi;
//!
//! #[secure_api]
//! impl ServiceApi {
//!     /// Service-to-service only
//!     #[oai(path = "/service-endpoint", method = "get")]
//!     async fn service(&self, peer: ClientCert) -> PlainText<String> {
//!         PlainText(format!("hello {}", peer.common_name().unwrap_or("-")))
//!     }
//!
//!     /// mTLS only, without reading the certificate
//!     #[oai(path = "/internal", method = "post")]
//!     #[requires_client_cert]
//!     async fn internal(&self) -> PlainText<&'static str> {
//!         PlainText("ok")
//!     }
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let api = secure_api::poem_openapi::OpenApiService::new(ServiceApi, "svc", "1");
//! let routes = secure_api::poem::Route::new().nest("/", api);
//! let config = MtlsConfig::from_pem_files("server.crt", "server.key", "clients-ca.crt")?;
//! MtlsListener::bind("127.0.0.1:8443", &config).await?.run(routes).await?;
//! # Ok(())
//! # }
//! ```
//!
//! - **In the handshake**: a client without a certificate, with one that is expired or
//!   not yet valid, or with one signed by another CA never gets an HTTP exchange; the
//!   refusal is logged with the peer address.
//! - **Per request**: the listener runs its own accept loop (tokio-rustls, the `ring`
//!   provider) and serves each connection with hyper, attaching the connection's
//!   [`ClientCert`] to each request: subject common name, DNS and URI SANs, SHA-256
//!   fingerprint, the DER.
//! - **Per operation**: `#[requires_client_cert]`, or a `ClientCert` parameter, makes an
//!   operation mTLS-only: the same service on a plain listener answers it 403, before
//!   any other check. Certificates forwarded in headers (RFC 9440 `Client-Cert`,
//!   `X-SSL-Client-Cert`) are never read.
//! - **Files**: certificates and keys are PEM; every problem names its file and says
//!   what is wrong (missing, not PEM, a key where a certificate was expected, a key that
//!   does not match the certificate, ...), at start-up.
//!
//! OpenAPI 3.0, the version poem-openapi writes, has no mutual-TLS security scheme: an
//! mTLS-only operation documents its 403 instead.

mod config;
mod identity;
mod listener;

pub use config::{MtlsConfig, MtlsConfigError};
pub use identity::{ClientCert, ClientCertRejection};
pub use listener::MtlsListener;

pub(crate) use identity::client_cert;
