//! The TLS side of the mTLS listener: the server's certificate and key and the CA
//! that signs client certificates, from PEM files, checked at start-up.

use rustls::{
    RootCertStore, ServerConfig,
    crypto::ring,
    pki_types::{
        CertificateDer, PrivateKeyDer,
        pem::{self, SectionKind},
    },
    server::WebPkiClientVerifier,
};
use std::{fmt, path::Path, sync::Arc};

/// What a mutual-TLS listener needs: the server's certificate chain and private key,
/// and the CA whose signature a client certificate must carry. Only TLS 1.3 and 1.2,
/// with rustls's `ring` provider; a client must present a certificate, valid now,
/// signed by that CA, or the handshake fails.
///
/// ```no_run
/// use secure_api::mtls::MtlsConfig;
/// let config = MtlsConfig::from_pem_files("server.crt", "server.key", "clients-ca.crt")?;
/// # Ok::<(), secure_api::mtls::MtlsConfigError>(())
/// ```
#[derive(Clone)]
pub struct MtlsConfig {
    pub(crate) server: Arc<ServerConfig>,
}

impl fmt::Debug for MtlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MtlsConfig").finish_non_exhaustive()
    }
}

/// A certificate, key or CA that cannot be used: names the file and what is wrong.
#[derive(Debug, Clone)]
pub struct MtlsConfigError {
    file: String,
    problem: String,
}

impl MtlsConfigError {
    fn new(file: &str, problem: impl Into<String>) -> Self {
        MtlsConfigError {
            file: file.to_owned(),
            problem: problem.into(),
        }
    }

    /// The file at fault (or what it holds, for in-memory PEM).
    ///
    /// ```
    /// # use secure_api::mtls::MtlsConfig;
    /// let error = MtlsConfig::from_pem_files("/nonexistent/server.crt", "k", "ca").unwrap_err();
    /// assert_eq!(error.file(), "/nonexistent/server.crt");
    /// ```
    pub fn file(&self) -> &str {
        &self.file
    }
}

impl fmt::Display for MtlsConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.file, self.problem)
    }
}

impl std::error::Error for MtlsConfigError {}

impl MtlsConfig {
    /// Reads the server's certificate chain (leaf first), its private key (PKCS#8,
    /// PKCS#1 or SEC1) and the client CA certificates (one or more) from PEM files.
    ///
    /// ```
    /// # use secure_api::mtls::MtlsConfig;
    /// let error = MtlsConfig::from_pem_files("/nonexistent/server.crt", "k", "ca").unwrap_err();
    /// assert!(error.to_string().starts_with("/nonexistent/server.crt: cannot read"));
    /// ```
    pub fn from_pem_files(
        cert: impl AsRef<Path>,
        key: impl AsRef<Path>,
        client_ca: impl AsRef<Path>,
    ) -> Result<Self, MtlsConfigError> {
        let read = |path: &Path| {
            let name = path.display().to_string();
            std::fs::read(path)
                .map(|bytes| (name.clone(), bytes))
                .map_err(|error| MtlsConfigError::new(&name, format!("cannot read: {error}")))
        };
        let (cert_name, cert) = read(cert.as_ref())?;
        let (key_name, key) = read(key.as_ref())?;
        let (ca_name, ca) = read(client_ca.as_ref())?;
        Self::build((&cert_name, &cert), (&key_name, &key), (&ca_name, &ca))
    }

    /// The same from PEM text already in memory.
    ///
    /// ```
    /// # use secure_api::mtls::MtlsConfig;
    /// let error = MtlsConfig::from_pem(b"not pem", b"", b"").unwrap_err();
    /// assert_eq!(error.file(), "the server certificate");
    /// ```
    pub fn from_pem(cert: &[u8], key: &[u8], client_ca: &[u8]) -> Result<Self, MtlsConfigError> {
        Self::build(
            ("the server certificate", cert),
            ("the server key", key),
            ("the client CA", client_ca),
        )
    }

    fn build(
        (cert_name, cert): (&str, &[u8]),
        (key_name, key): (&str, &[u8]),
        (ca_name, ca): (&str, &[u8]),
    ) -> Result<Self, MtlsConfigError> {
        let chain = certificates(cert_name, cert)?;
        let key = private_key(key_name, key)?;
        let mut roots = RootCertStore::empty();
        for (i, ca_cert) in certificates(ca_name, ca)?.into_iter().enumerate() {
            roots.add(ca_cert).map_err(|error| {
                MtlsConfigError::new(
                    ca_name,
                    format!(
                        "certificate #{} is not a usable CA certificate: {error}",
                        i + 1
                    ),
                )
            })?;
        }
        let provider = Arc::new(ring::default_provider());
        let verifier =
            WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .build()
                .map_err(|error| {
                    MtlsConfigError::new(
                        ca_name,
                        format!("cannot verify clients with it: {error:?}"),
                    )
                })?;
        let mut server = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|error| MtlsConfigError::new(cert_name, error.to_string()))?
            .with_client_cert_verifier(verifier)
            .with_single_cert(chain, key)
            .map_err(|error| match error {
                rustls::Error::InconsistentKeys(_) => MtlsConfigError::new(
                    key_name,
                    format!("this private key does not belong to the certificate in {cert_name}"),
                ),
                other => MtlsConfigError::new(
                    cert_name,
                    format!("cannot be used with the key in {key_name}: {other}"),
                ),
            })?;
        server.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(MtlsConfig {
            server: Arc::new(server),
        })
    }
}

/// Every PEM section of `bytes`, or what is wrong with the file.
fn sections(name: &str, bytes: &[u8]) -> Result<Vec<(SectionKind, Vec<u8>)>, MtlsConfigError> {
    let mut reader = bytes;
    let mut sections = Vec::new();
    loop {
        match pem::from_buf(&mut reader) {
            Ok(Some(section)) => sections.push(section),
            Ok(None) => return Ok(sections),
            Err(error) => {
                return Err(MtlsConfigError::new(
                    name,
                    format!("is not valid PEM: {error}"),
                ));
            }
        }
    }
}

fn kinds(sections: &[(SectionKind, Vec<u8>)]) -> String {
    if sections.is_empty() {
        return "no PEM section at all".to_owned();
    }
    let names: Vec<String> = sections
        .iter()
        .map(|(kind, _)| match kind {
            SectionKind::Certificate => "a CERTIFICATE".to_owned(),
            SectionKind::PrivateKey => "a PRIVATE KEY".to_owned(),
            SectionKind::RsaPrivateKey => "an RSA PRIVATE KEY".to_owned(),
            SectionKind::EcPrivateKey => "an EC PRIVATE KEY".to_owned(),
            other => format!("a {other:?} section"),
        })
        .collect();
    format!("only {}", names.join(", "))
}

fn certificates(name: &str, bytes: &[u8]) -> Result<Vec<CertificateDer<'static>>, MtlsConfigError> {
    let sections = sections(name, bytes)?;
    let certs: Vec<CertificateDer<'static>> = sections
        .iter()
        .filter(|(kind, _)| *kind == SectionKind::Certificate)
        .map(|(_, der)| CertificateDer::from(der.clone()))
        .collect();
    if certs.is_empty() {
        return Err(MtlsConfigError::new(
            name,
            format!(
                "holds no certificate (-----BEGIN CERTIFICATE-----), {}",
                kinds(&sections)
            ),
        ));
    }
    for (i, cert) in certs.iter().enumerate() {
        if let Err(error) = webpki::EndEntityCert::try_from(cert) {
            return Err(MtlsConfigError::new(
                name,
                format!(
                    "certificate #{} is not a valid X.509 certificate: {error}",
                    i + 1
                ),
            ));
        }
    }
    Ok(certs)
}

fn private_key(name: &str, bytes: &[u8]) -> Result<PrivateKeyDer<'static>, MtlsConfigError> {
    let sections = sections(name, bytes)?;
    let mut keys = sections.iter().filter_map(|(kind, der)| match kind {
        SectionKind::PrivateKey => Some(PrivateKeyDer::Pkcs8(der.clone().into())),
        SectionKind::RsaPrivateKey => Some(PrivateKeyDer::Pkcs1(der.clone().into())),
        SectionKind::EcPrivateKey => Some(PrivateKeyDer::Sec1(der.clone().into())),
        _ => None,
    });
    let Some(key) = keys.next() else {
        return Err(MtlsConfigError::new(
            name,
            format!(
                "holds no private key (PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY), {}",
                kinds(&sections)
            ),
        ));
    };
    if keys.next().is_some() {
        return Err(MtlsConfigError::new(
            name,
            "holds more than one private key; keep only the server's",
        ));
    }
    ring::default_provider()
        .key_provider
        .load_private_key(key.clone_key())
        .map_err(|error| {
            MtlsConfigError::new(name, format!("the private key cannot be used: {error}"))
        })?;
    Ok(key)
}
