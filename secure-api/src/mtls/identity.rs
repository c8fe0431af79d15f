//! The verified client certificate, as handlers receive it.

use poem::{FromRequest, Request, RequestBody, Response, error::ResponseError, http::StatusCode};
use rustls::pki_types::CertificateDer;
use sha2::{Digest, Sha256};
use std::{fmt, sync::Arc};

/// The peer of a mutual-TLS connection: its certificate, verified against the client
/// CA during the handshake. Only the [`MtlsListener`](super::MtlsListener) makes one,
/// so a request carries one only when it came through that listener; a header such as
/// RFC 9440's `Client-Cert` is never read.
///
/// As a handler parameter (in a `#[secure_api]` operation, a poem-openapi operation or
/// a poem handler) it requires such a connection: elsewhere the request gets 403.
///
/// ```
/// use secure_api::mtls::ClientCert;
/// fn describe(peer: &ClientCert) -> String {
///     format!(
///         "{} ({:?}), sha256 {}",
///         peer.common_name().unwrap_or("-"),
///         peer.dns_names(),
///         peer.fingerprint_sha256()
///     )
/// }
/// ```
#[derive(Clone)]
pub struct ClientCert {
    inner: Arc<Inner>,
}

struct Inner {
    der: CertificateDer<'static>,
    common_name: Option<String>,
    dns_names: Vec<String>,
    uris: Vec<String>,
    fingerprint: [u8; 32],
}

impl fmt::Debug for ClientCert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCert")
            .field("common_name", &self.inner.common_name)
            .field("dns_names", &self.inner.dns_names)
            .field("uris", &self.inner.uris)
            .field("fingerprint_sha256", &self.fingerprint_sha256())
            .finish()
    }
}

impl PartialEq for ClientCert {
    fn eq(&self, other: &Self) -> bool {
        self.inner.der == other.inner.der
    }
}

impl ClientCert {
    /// Reads the identity of a certificate the TLS handshake verified.
    pub(crate) fn from_verified(der: CertificateDer<'static>) -> Self {
        let (common_name, dns_names, uris) = match webpki::EndEntityCert::try_from(&der) {
            Ok(cert) => (
                common_name(cert.subject()),
                cert.valid_dns_names().map(str::to_owned).collect(),
                cert.valid_uri_names().map(str::to_owned).collect(),
            ),
            // Unreachable after a successful handshake, which parsed it already.
            Err(_) => (None, Vec::new(), Vec::new()),
        };
        ClientCert {
            inner: Arc::new(Inner {
                fingerprint: Sha256::digest(der.as_ref()).into(),
                der,
                common_name,
                dns_names,
                uris,
            }),
        }
    }

    /// The subject's common name (the last one, when the subject has several).
    ///
    /// ```
    /// # use secure_api::mtls::ClientCert;
    /// fn service(peer: &ClientCert) -> &str { peer.common_name().unwrap_or("unknown") }
    /// ```
    pub fn common_name(&self) -> Option<&str> {
        self.inner.common_name.as_deref()
    }

    /// The DNS names of the subject alternative names.
    ///
    /// ```
    /// # use secure_api::mtls::ClientCert;
    /// fn is_billing(peer: &ClientCert) -> bool {
    ///     peer.dns_names().iter().any(|name| name == "billing.internal")
    /// }
    /// ```
    pub fn dns_names(&self) -> &[String] {
        &self.inner.dns_names
    }

    /// The URIs of the subject alternative names (SPIFFE IDs, for instance).
    ///
    /// ```
    /// # use secure_api::mtls::ClientCert;
    /// fn spiffe_id(peer: &ClientCert) -> Option<&str> {
    ///     peer.uris().iter().find(|uri| uri.starts_with("spiffe://")).map(String::as_str)
    /// }
    /// ```
    pub fn uris(&self) -> &[String] {
        &self.inner.uris
    }

    /// The SHA-256 fingerprint of the certificate, in lower-case hex (as
    /// `openssl x509 -fingerprint -sha256` prints it, without colons).
    ///
    /// ```
    /// # use secure_api::mtls::ClientCert;
    /// fn pinned(peer: &ClientCert, expected: &str) -> bool { peer.fingerprint_sha256() == expected }
    /// ```
    pub fn fingerprint_sha256(&self) -> String {
        crate::hex::lower(&self.inner.fingerprint)
    }

    /// The certificate itself (DER), for checks of your own.
    ///
    /// ```
    /// # use secure_api::mtls::ClientCert;
    /// fn size(peer: &ClientCert) -> usize { peer.der().len() }
    /// ```
    pub fn der(&self) -> &[u8] {
        self.inner.der.as_ref()
    }
}

/// The request did not come over a mutual-TLS connection. Answered with 403.
#[derive(Debug, Clone, Copy)]
pub struct ClientCertRejection;

impl fmt::Display for ClientCertRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("no client certificate: the request did not come over mutual TLS")
    }
}

impl std::error::Error for ClientCertRejection {}

impl ResponseError for ClientCertRejection {
    fn status(&self) -> StatusCode {
        StatusCode::FORBIDDEN
    }

    fn as_response(&self) -> Response {
        poem::IntoResponse::into_response(
            crate::problem::Problem::new(StatusCode::FORBIDDEN)
                .detail("this operation is served only over mutual TLS, with a client certificate"),
        )
    }
}

/// The connection's verified certificate, or the 403 of a request without one.
pub(crate) fn client_cert(request: &Request) -> Result<&ClientCert, ClientCertRejection> {
    request.extensions().get::<ClientCert>().ok_or_else(|| {
        tracing::info!(
            method = %request.method(),
            path = %request.uri().path(),
            "refused: no client certificate"
        );
        ClientCertRejection
    })
}

impl<'a> FromRequest<'a> for ClientCert {
    async fn from_request(request: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        Ok(client_cert(request)?.clone())
    }
}

/// The last common name (OID 2.5.4.3) of a DER `Name`'s contents: a sequence of SETs
/// of `SEQUENCE { type OID, value }`.
fn common_name(subject: &[u8]) -> Option<String> {
    const CN: &[u8] = &[0x55, 0x04, 0x03];
    let mut found = None;
    let mut rdns = subject;
    while let Some((0x31, set, rest)) = tlv(rdns) {
        rdns = rest;
        let mut attributes = set;
        while let Some((0x30, attribute, rest)) = tlv(attributes) {
            attributes = rest;
            let Some((0x06, oid, value)) = tlv(attribute) else {
                continue;
            };
            if oid != CN {
                continue;
            }
            if let Some((tag, bytes, _)) = tlv(value)
                && let Some(text) = directory_string(tag, bytes)
            {
                found = Some(text);
            }
        }
    }
    found
}

fn directory_string(tag: u8, bytes: &[u8]) -> Option<String> {
    match tag {
        // UTF8String, PrintableString, IA5String
        0x0c | 0x13 | 0x16 => String::from_utf8(bytes.to_vec()).ok(),
        // BMPString: UTF-16BE
        0x1e if bytes.len().is_multiple_of(2) => {
            let units: Vec<u16> = bytes
                .chunks_exact(2)
                .map(|pair| u16::from_be_bytes([pair[0], pair[1]]))
                .collect();
            String::from_utf16(&units).ok()
        }
        _ => None,
    }
}

/// One DER element: (tag, contents, what follows). `None` on anything malformed.
fn tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let len = rest[..count]
            .iter()
            .fold(0usize, |len, &b| (len << 8) | usize::from(b));
        (len, &rest[count..])
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_names_are_read_from_the_subject() {
        // SET { SEQ { OID 2.5.4.10, UTF8 "Org" } }, SET { SEQ { OID 2.5.4.3, PRINTABLE "svc" } }
        let subject = [
            0x31, 0x0c, 0x30, 0x0a, 0x06, 0x03, 0x55, 0x04, 0x0a, 0x0c, 0x03, b'O', b'r', b'g',
            0x31, 0x0c, 0x30, 0x0a, 0x06, 0x03, 0x55, 0x04, 0x03, 0x13, 0x03, b's', b'v', b'c',
        ];
        assert_eq!(common_name(&subject).as_deref(), Some("svc"));
        // BMPString "ab"
        let bmp = [
            0x31, 0x0d, 0x30, 0x0b, 0x06, 0x03, 0x55, 0x04, 0x03, 0x1e, 0x04, 0x00, b'a', 0x00,
            b'b',
        ];
        assert_eq!(common_name(&bmp).as_deref(), Some("ab"));
        assert_eq!(common_name(&subject[..14]), None, "no CN");
        assert_eq!(common_name(&subject[..20]), None, "truncated");
        assert_eq!(common_name(&[0x31, 0x84, 0xff, 0xff, 0xff, 0xff]), None);
        assert_eq!(common_name(&[]), None);
    }
}
