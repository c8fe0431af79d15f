//! The checks jsonwebtoken does not do, and the mapping of its errors to [`TokenRejection`].

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use serde::de::IgnoredAny;
use serde::{Deserialize, Deserializer};
use smallvec::SmallVec;
use std::borrow::Cow;

use super::claims::RawClaims;
use super::error::TokenRejection;
use super::keys::VerificationKey;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Text made only of `[A-Za-z0-9_-]` and exactly two dots: what a compact JWT may
/// contain.
///
/// The hot loop of every authenticated request, so it reads each byte once, with
/// arithmetic instead of a table (the compiler turns it into vector instructions, 16
/// or 32 bytes at a time; a table lookup per byte cannot be). The bearer guard builds
/// it straight from the `Authorization` header's bytes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct JwtText<'a>(&'a str);

impl<'a> JwtText<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Option<Self> {
        let (mut valid, mut dots) = (true, 0_usize);
        // Fixed-size chunks, so each one's loop is unrolled and vectorised.
        let mut chunks = bytes.chunks_exact(32);
        for chunk in &mut chunks {
            valid &= chunk.iter().fold(true, |valid, &b| valid & is_jwt_byte(b));
            dots += chunk.iter().map(|&b| usize::from(b == b'.')).sum::<usize>();
        }
        for &b in chunks.remainder() {
            valid &= is_jwt_byte(b);
            dots += usize::from(b == b'.');
        }
        if !valid || dots != 2 {
            return None;
        }
        // All ASCII by now, so `from_utf8` cannot fail (and is a word-at-a-time pass).
        std::str::from_utf8(bytes).ok().map(JwtText)
    }

    pub(crate) fn as_str(self) -> &'a str {
        self.0
    }
}

/// `[A-Za-z0-9_-]` or a dot, without a branch: `b | 0x20` folds upper case onto lower
/// case and moves nothing else into `a..=z`.
fn is_jwt_byte(b: u8) -> bool {
    ((b | 0x20).wrapping_sub(b'a') < 26)
        | (b.wrapping_sub(b'0') < 10)
        | (b == b'-')
        | (b == b'_')
        | (b == b'.')
}

/// Refuses anything that is not `header.payload.signature`, each segment one or
/// more of `[A-Za-z0-9_-]` (draft-ietf-oauth-rfc8725bis, "Check JWT format type").
///
/// Runs before any decoding, without allocating, so a hostile token costs no more
/// than reading it once: [`JwtText`] has checked the bytes and counted two dots, so
/// only the segments' ends are left to look at.
pub(super) fn check_shape(
    token: JwtText<'_>,
    max_bytes: usize,
) -> Result<Parts<'_>, TokenRejection> {
    let token = token.as_str();
    if token.len() > max_bytes {
        return Err(TokenRejection::TooLarge);
    }
    // The header and the signature are short: both dots are found near the ends.
    match (token.find('.'), token.rfind('.')) {
        (Some(first), Some(last)) if first > 0 && last > first + 1 && last + 1 < token.len() => {
            Ok(Parts {
                header: &token[..first],
                payload: &token[first + 1..last],
                message: &token[..last],
                signature: &token[last + 1..],
            })
        }
        _ => Err(TokenRejection::Malformed),
    }
}

/// The base64url parts of a well-formed token, found once by [`check_shape`].
pub(super) struct Parts<'a> {
    pub header: &'a str,
    pub payload: &'a str,
    /// `header.payload`: what the signature signs.
    pub message: &'a str,
    pub signature: &'a str,
}

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

/// The header fields this module decides on.
///
/// `alg` is read as a string, not as jsonwebtoken's `Algorithm` (which has no
/// `none`), so `{"alg":"none"}` is refused as [`TokenRejection::WrongAlgorithm`]
/// rather than as a JSON error. Other fields (`jku`, `x5u`, `jwk`,
/// `x5c`, ...) are ignored: the key comes from the configured `kid` map only.
///
/// Its text borrows from the decoded JSON (escaped text, which no issuer writes, is
/// copied): reading it allocates nothing on every authenticated request.
#[derive(Deserialize)]
pub(super) struct Header<'a> {
    #[serde(borrow)]
    pub alg: Cow<'a, str>,
    #[serde(borrow, default)]
    pub kid: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub typ: Option<Cow<'a, str>>,
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

/// One base64url part of a token ([`Parts`]), decoded on the stack (a
/// header is about 50 bytes and the claims a few hundred; a longer part, up to the
/// token's size limit, spills).
pub(super) fn decode_part(encoded: &str) -> Result<SmallVec<[u8; 512]>, TokenRejection> {
    let mut bytes = SmallVec::from_elem(0, base64::decoded_len_estimate(encoded.len()));
    let len = URL_SAFE_NO_PAD
        .decode_slice(encoded, &mut bytes)
        .map_err(|_| TokenRejection::Malformed)?;
    bytes.truncate(len);
    Ok(bytes)
}

/// The claims of a token ([`Parts::payload`]) whose signature is good, read in one
/// pass.
pub(super) fn read_claims(payload: &str) -> Result<RawClaims, TokenRejection> {
    let json = decode_part(payload)?;
    serde_json::from_slice(json_object(&json)?).map_err(|_| TokenRejection::Malformed)
}

/// Checks the signature of a token's parts against `key`, whose
/// algorithm the header's `alg` names. An HS256 key's MAC comes keyed already
/// (`hs256`): its two key blocks are hashed once at start, not on every request.
/// Other algorithms go through jsonwebtoken's provider.
pub(super) fn check_signature(
    parts: &Parts<'_>,
    key: &VerificationKey,
    hs256: Option<&Hmac<Sha256>>,
) -> Result<(), TokenRejection> {
    let Parts {
        message, signature, ..
    } = *parts;
    let Some(keyed) = hs256 else {
        return match jsonwebtoken::crypto::verify(
            signature,
            message.as_bytes(),
            &key.decoding,
            key.algorithm,
        ) {
            Ok(true) => Ok(()),
            Ok(false) => Err(TokenRejection::BadSignature),
            Err(error) => Err(rejection_from(&error)),
        };
    };
    let signature = decode_part(signature)?;
    // `verify_slice` compares in constant time, whatever the length presented.
    keyed
        .clone()
        .chain_update(message.as_bytes())
        .verify_slice(&signature)
        .map_err(|_| TokenRejection::BadSignature)
}

/// The fields of a header's JSON (its [`Parts::header`], decoded) we decide on.
pub(super) fn read_header(json: &[u8]) -> Result<Header<'_>, TokenRejection> {
    serde_json::from_slice(json_object(json)?).map_err(|_| TokenRejection::Malformed)
}

/// `json` when it is a JSON object, as RFC 7515 and RFC 7519 require of a header and
/// of the claims: serde's derived structs would also read an array, by position.
fn json_object(json: &[u8]) -> Result<&[u8], TokenRejection> {
    match json
        .iter()
        .find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
    {
        Some(b'{') => Ok(json),
        _ => Err(TokenRejection::Malformed),
    }
}

/// RFC 9068 §4 step 1; media types compare case-insensitively (RFC 7515 §4.1.9).
pub(super) fn is_access_token_type(typ: Option<&str>) -> bool {
    typ.is_some_and(|typ| {
        typ.eq_ignore_ascii_case("at+jwt") || typ.eq_ignore_ascii_case("application/at+jwt")
    })
}

/// jsonwebtoken's error as our rejection. Verification meets only the signature's
/// (a signature that is not base64url is malformed); the claim kinds are mapped too,
/// for the test that holds our claim checks against `jsonwebtoken::decode`.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_branch_free_byte_check_is_exactly_base64url_and_dot() {
        let table = byte_table(b"-_.");
        for b in 0..=u8::MAX {
            assert_eq!(is_jwt_byte(b), table[usize::from(b)], "byte {b:#04x}");
        }
    }

    #[test]
    fn the_header_is_read_on_the_stack_or_spilled_escaped_or_not() {
        let token = |json: &str| URL_SAFE_NO_PAD.encode(json);
        let short = token(r#"{"alg":"HS256","kid":"k\u0031","typ":"at+jwt"}"#);
        let json = decode_part(&short).unwrap();
        assert!(!json.spilled());
        let header = read_header(&json).unwrap();
        assert_eq!(&*header.alg, "HS256");
        assert_eq!(header.kid.as_deref(), Some("k1"), "an escape is decoded");
        assert_eq!(header.typ.as_deref(), Some("at+jwt"));
        assert!(!header.crit.0);

        let kid = "k".repeat(700);
        let long = token(&format!(r#"{{"alg":"ES256","kid":"{kid}","crit":null}}"#));
        let json = decode_part(&long).unwrap();
        assert!(json.spilled());
        let header = read_header(&json).unwrap();
        assert_eq!(header.kid.as_deref(), Some(kid.as_str()));
        assert!(header.crit.0, "`crit` counts even when null");

        assert!(matches!(decode_part("a!b"), Err(TokenRejection::Malformed)));
        assert!(matches!(
            read_header(b"{\"kid\":1}"),
            Err(TokenRejection::Malformed)
        ));
    }

    #[test]
    fn jwt_text_needs_two_dots_and_jwt_bytes_only_at_any_length() {
        for len in [5, 31, 32, 33, 64, 100] {
            let mut token = vec![b'a'; len];
            token[1] = b'.';
            token[len - 2] = b'.';
            assert!(JwtText::new(&token).is_some(), "len {len}");
            token[len / 2] = b'=';
            assert!(JwtText::new(&token).is_none(), "len {len} with '='");
        }
        assert!(JwtText::new(b"a.b").is_none());
        assert!(JwtText::new(b"a.b.c.d").is_none());
        assert!(JwtText::new("a.b.\u{e9}".as_bytes()).is_none());
    }
}
