//! Certificates made by the tests (rcgen) and a real TLS client (tokio-rustls and
//! hyper), for the mutual-TLS listener.

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose, SanType,
};
use std::{
    path::PathBuf,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
};

/// A certificate authority made for one test.
pub struct Ca {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

/// A certificate and its private key, in PEM.
#[derive(Clone)]
pub struct Pem {
    pub cert: String,
    pub key: String,
}

impl Ca {
    pub fn new(name: &str) -> Ca {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().expect("CA key");
        Ca {
            issuer: CertifiedIssuer::self_signed(params, key).expect("CA certificate"),
        }
    }

    pub fn cert_pem(&self) -> String {
        self.issuer.pem()
    }

    /// A server certificate for `localhost` and `127.0.0.1`.
    pub fn server(&self) -> Pem {
        let mut params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
                .expect("server params");
        params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        self.sign(params)
    }

    /// A client certificate for `common_name`, with these DNS and URI names, valid
    /// from `not_before` to `not_after` (years).
    pub fn client(
        &self,
        common_name: &str,
        dns: &[&str],
        uris: &[&str],
        (not_before, not_after): (i32, i32),
    ) -> Pem {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("client params");
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        params
            .distinguished_name
            .push(DnType::OrganizationName, "secure-api tests");
        for name in dns {
            params
                .subject_alt_names
                .push(SanType::DnsName((*name).try_into().expect("DNS name")));
        }
        for uri in uris {
            params
                .subject_alt_names
                .push(SanType::URI((*uri).try_into().expect("URI")));
        }
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.not_before = rcgen::date_time_ymd(not_before, 1, 1);
        params.not_after = rcgen::date_time_ymd(not_after, 1, 1);
        self.sign(params)
    }

    /// A client certificate valid now, from 2020 to 2100.
    pub fn valid_client(&self, common_name: &str) -> Pem {
        self.client(common_name, &[], &[], (2020, 2100))
    }

    fn sign(&self, params: CertificateParams) -> Pem {
        let key = KeyPair::generate().expect("key");
        let cert = params.signed_by(&key, &self.issuer).expect("sign");
        Pem {
            cert: cert.pem(),
            key: key.serialize_pem(),
        }
    }
}

/// Writes `contents` to a new file in a directory of this test run; returns its path.
pub fn write_temp(name: &str, contents: &str) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "secure-api-tests-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, contents).expect("write temp file");
    path
}

/// The SHA-256 fingerprint of a PEM certificate, in lower-case hex.
pub fn fingerprint(cert_pem: &str) -> String {
    use rustls::pki_types::{CertificateDer, pem::PemObject};
    use sha2::{Digest, Sha256};
    let der = CertificateDer::from_pem_slice(cert_pem.as_bytes()).expect("PEM certificate");
    Sha256::digest(der.as_ref())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// An HTTP answer over TLS.
#[derive(Debug)]
pub struct TlsAnswer {
    pub status: u16,
    pub headers: hyper::HeaderMap,
    pub body: String,
}

/// `GET path` over TLS to `addr` (server name `localhost`, trusted through `server_ca`),
/// presenting `client` when given; `Err` describes a TLS or connection failure.
pub async fn tls_get(
    addr: std::net::SocketAddr,
    server_ca: &str,
    client: Option<&Pem>,
    path: &str,
    headers: &[(&str, &str)],
) -> Result<TlsAnswer, String> {
    use http_body_util::{BodyExt, Empty};
    use hyper_util::rt::TokioIo;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, pem::PemObject};

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(server_ca.as_bytes()).expect("CA PEM"))
        .expect("CA");
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_root_certificates(roots);
    let config = match client {
        Some(pem) => builder
            .with_client_auth_cert(
                vec![CertificateDer::from_pem_slice(pem.cert.as_bytes()).expect("cert PEM")],
                PrivateKeyDer::from_pem_slice(pem.key.as_bytes()).expect("key PEM"),
            )
            .expect("client certificate"),
        None => builder.with_no_client_auth(),
    };
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let name = ServerName::try_from("localhost").expect("server name");
    let tls = connector
        .connect(name, tcp)
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
        .await
        .map_err(|e| format!("http handshake: {e}"))?;
    tokio::spawn(connection);
    let mut request = hyper::Request::builder()
        .uri(path)
        .header("host", format!("localhost:{}", addr.port()));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request
        .body(Empty::<hyper::body::Bytes>::new())
        .expect("request");
    // With TLS 1.3 the server checks the client's certificate after the client
    // thinks the handshake is done: a refusal shows up here, as an alert.
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| format!("request: {e:?}"))?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| format!("body: {e}"))?
        .to_bytes();
    Ok(TlsAnswer {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}
