//! The checks jsonwebtoken does not do, and the mapping of its errors to [`TokenRejection`].

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use serde::de::IgnoredAny;
use serde::{Deserialize, Deserializer};

use super::error::TokenRejection;

/// Text made only of `[A-Za-z0-9_-]` and dots: what a compact JWT may contain.
///
/// Checked with one table lookup per byte, no branch per byte (`fold` with `&`, so the
/// loop unrolls): the hot loop of every authenticated request. The bearer guard builds
/// it straight from the `Authorization` header's bytes, so the token is read once.
#[derive(Debug, Clone, Copy)]
pub(crate) struct JwtText<'a>(&'a str);

impl<'a> JwtText<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Option<Self> {
        let valid = bytes
            .iter()
            .fold(true, |valid, &b| valid & BASE64URL_OR_DOT[usize::from(b)]);
        // All ASCII by now, so `from_utf8` cannot fail (and is a word-at-a-time pass).
        valid.then(|| std::str::from_utf8(bytes).ok().map(JwtText))?
    }

    pub(crate) fn as_str(self) -> &'a str {
        self.0
    }
}

/// Refuses anything that is not `header.payload.signature`, each segment one or
/// more of `[A-Za-z0-9_-]` (draft-ietf-oauth-rfc8725bis, "Check JWT format type").
///
/// Runs before any decoding, without allocating, so a hostile token costs no more
/// than reading it once (and finding its two dots).
pub(super) fn check_shape(token: JwtText<'_>, max_bytes: usize) -> Result<(), TokenRejection> {
    let token = token.as_str();
    if token.len() > max_bytes {
        return Err(TokenRejection::TooLarge);
    }
    let mut segments = token.splitn(4, '.');
    let well_formed = matches!(
        (segments.next(), segments.next(), segments.next(), segments.next()),
        (Some(h), Some(p), Some(s), None) if !h.is_empty() && !p.is_empty() && !s.is_empty()
    );
    if well_formed {
        Ok(())
    } else {
        Err(TokenRejection::Malformed)
    }
}

/// `[A-Za-z0-9_-]` and `.`, as a table indexed by byte.
const BASE64URL_OR_DOT: [bool; 256] = byte_table(b"-_.");

/// A table of the ASCII letters and digits and `extra`, indexed by byte.
pub(crate) const fn byte_table(extra: &[u8]) -> [bool; 256] {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = (b as u8).is_ascii_alphanumeric();
        b += 1;
    }
    let mut i = 0;
    while i < extra.len() {
        table[extra[i] as usize] = true;
        i += 1;
    }
    table
}

/// The header fields this module decides on, read before jsonwebtoken sees the token.
///
/// jsonwebtoken parses `alg` into an enum without `none`, so `{"alg":"none"}`
/// would only surface as a JSON error; reading it as a string here lets us log
/// it as [`TokenRejection::WrongAlgorithm`]. Other fields (`jku`, `x5u`, `jwk`,
/// `x5c`, ...) are ignored: the key comes from the configured `kid` map only.
#[derive(Deserialize)]
pub(super) struct Header {
    pub alg: String,
    #[serde(default)]
    pub kid: Option<String>,
    #[serde(default)]
    pub typ: Option<String>,
    #[serde(default)]
    pub crit: Present,
}

/// True when the field exists at all, whatever its value (even `null`).
#[derive(Default)]
pub(super) struct Present(pub bool);

impl<'de> Deserialize<'de> for Present {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        IgnoredAny::deserialize(deserializer)?;
        Ok(Present(true))
    }
}

/// Decodes the header of a token that passed [`check_shape`].
pub(super) fn read_header(token: &str) -> Result<Header, TokenRejection> {
    let encoded = token.split('.').next().unwrap_or_default();
    let json = URL_SAFE_NO_PAD
        .decode(encoded)
        .map_err(|_| TokenRejection::Malformed)?;
    serde_json::from_slice(&json).map_err(|_| TokenRejection::Malformed)
}

/// RFC 9068 §4 step 1; media types compare case-insensitively (RFC 7515 §4.1.9).
pub(super) fn is_access_token_type(typ: Option<&str>) -> bool {
    typ.is_some_and(|typ| {
        typ.eq_ignore_ascii_case("at+jwt") || typ.eq_ignore_ascii_case("application/at+jwt")
    })
}

pub(super) fn rejection_from(error: &jsonwebtoken::errors::Error) -> TokenRejection {
    match error.kind() {
        ErrorKind::InvalidToken
        | ErrorKind::Base64(_)
        | ErrorKind::Json(_)
        | ErrorKind::Utf8(_) => TokenRejection::Malformed,
        ErrorKind::InvalidSignature => TokenRejection::BadSignature,
        ErrorKind::InvalidAlgorithm => TokenRejection::WrongAlgorithm,
        ErrorKind::ExpiredSignature => TokenRejection::Expired,
        ErrorKind::ImmatureSignature => TokenRejection::NotYetValid,
        ErrorKind::InvalidIssuer => TokenRejection::WrongIssuer,
        ErrorKind::InvalidAudience => TokenRejection::WrongAudience,
        ErrorKind::MissingRequiredClaim(name) => TokenRejection::MissingClaim(claim_name(name)),
        ErrorKind::InvalidClaimFormat(name) => TokenRejection::InvalidClaim(claim_name(name)),
        ErrorKind::InvalidSubject => TokenRejection::InvalidClaim("sub"),
        // The rest (key format, missing algorithm, provider errors) cannot come
        // from the token: the key and its single algorithm were checked at start-up.
        _ => TokenRejection::Internal,
    }
}

// jsonwebtoken only ever names these claims; the rejection keeps a `&'static str`.
fn claim_name(name: &str) -> &'static str {
    match name {
        "exp" => "exp",
        "nbf" => "nbf",
        "sub" => "sub",
        "iss" => "iss",
        "aud" => "aud",
        _ => "unknown",
    }
}
