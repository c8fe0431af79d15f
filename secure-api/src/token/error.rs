//! The three error types of the token module: rejections, configuration errors, issuing errors.

use std::fmt;
use std::time::Duration;

/// Why an access token was rejected.
///
/// The reason is meant for server logs only. Clients must only ever see a
/// generic `invalid_token` (RFC 6750 §3.1): telling an attacker which check
/// failed helps them forge the next token.
///
/// ```
/// use secure_api::token::TokenRejection;
///
/// let reason = TokenRejection::MissingClaim("exp");
/// assert_eq!(reason.to_string(), "claim `exp` is missing or not of the expected type");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenRejection {
    /// The token is longer than the configured maximum; it was not decoded.
    TooLarge,
    /// The token is not three base64url segments, or its header or payload is not valid JSON.
    Malformed,
    /// The header has a `crit` parameter; no critical extension is supported (RFC 7515 §4.1.11).
    UnsupportedCritical,
    /// The header has no `kid` and more than one verification key is configured.
    MissingKeyId,
    /// The header's `kid` names no configured verification key.
    UnknownKey,
    /// The header's `alg` is not the single algorithm bound to the key (this includes `none`).
    WrongAlgorithm,
    /// The signature does not verify with the key.
    BadSignature,
    /// The header's `typ` is missing or is not `at+jwt` / `application/at+jwt` (RFC 9068 §4).
    WrongType,
    /// `exp` is in the past, beyond the leeway.
    Expired,
    /// `nbf` is in the future, beyond the leeway.
    NotYetValid,
    /// `iat` is in the future, beyond the leeway.
    IssuedInFuture,
    /// `iss` is not the configured issuer.
    WrongIssuer,
    /// `aud` does not contain the configured audience.
    WrongAudience,
    /// A required claim is absent (or, for `exp`, `sub`, `iss` and `aud`, has the wrong JSON type).
    MissingClaim(&'static str),
    /// A claim is present but has the wrong type or an unacceptable value.
    InvalidClaim(&'static str),
    /// Verification failed for a reason that points at the key configuration, not at the token.
    Internal,
}

impl fmt::Display for TokenRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge => f.write_str("token is larger than the configured maximum"),
            Self::Malformed => f.write_str("token is not a well-formed compact JWS"),
            Self::UnsupportedCritical => f.write_str("token header has a `crit` parameter"),
            Self::MissingKeyId => {
                f.write_str("token header has no `kid` and several keys are configured")
            }
            Self::UnknownKey => f.write_str("token `kid` names no configured key"),
            Self::WrongAlgorithm => f.write_str("token `alg` is not the algorithm of its key"),
            Self::BadSignature => f.write_str("token signature is invalid"),
            Self::WrongType => f.write_str("token `typ` is not `at+jwt`"),
            Self::Expired => f.write_str("token has expired"),
            Self::NotYetValid => f.write_str("token is not valid yet (`nbf`)"),
            Self::IssuedInFuture => f.write_str("token `iat` is in the future"),
            Self::WrongIssuer => f.write_str("token `iss` is not the expected issuer"),
            Self::WrongAudience => {
                f.write_str("token `aud` does not contain the expected audience")
            }
            Self::MissingClaim(name) => {
                write!(f, "claim `{name}` is missing or not of the expected type")
            }
            Self::InvalidClaim(name) => write!(f, "claim `{name}` is invalid"),
            Self::Internal => {
                f.write_str("token could not be verified (check the key configuration)")
            }
        }
    }
}

impl std::error::Error for TokenRejection {}

/// A [`TokenServiceBuilder`](super::TokenServiceBuilder) or key could not be built.
///
/// These happen at start-up, so each message says how to fix the configuration.
///
/// ```
/// use secure_api::token::{SigningKey, TokenConfigError};
///
/// let err = SigningKey::hs256("k1", b"too short").unwrap_err();
/// assert!(matches!(err, TokenConfigError::WeakSecret { .. }));
/// assert!(err.to_string().contains("openssl rand -hex 32"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenConfigError {
    /// No (or an empty) issuer was configured.
    MissingIssuer,
    /// No (or an empty) audience was configured.
    MissingAudience,
    /// No signing key was configured.
    MissingSigningKey,
    /// `signing_key` was called more than once.
    MultipleSigningKeys,
    /// An HS256 secret is shorter than 32 bytes.
    WeakSecret {
        /// The key id.
        kid: String,
        /// The length of the secret that was given, in bytes.
        len: usize,
    },
    /// An RSA key is shorter than 2048 bits.
    WeakRsaKey {
        /// The key id.
        kid: String,
        /// The modulus size of the key that was given, in bits.
        bits: usize,
    },
    /// A PEM could not be read as the kind of key that was asked for.
    InvalidKey {
        /// The key id.
        kid: String,
        /// What was expected, e.g. "an RSA public key PEM".
        expected: &'static str,
    },
    /// A key id is empty, longer than 128 bytes, or has characters outside `[A-Za-z0-9._-]`.
    InvalidKid {
        /// The key id that was given.
        kid: String,
    },
    /// Two keys share one key id.
    DuplicateKid {
        /// The key id.
        kid: String,
    },
    /// The access-token lifetime is under one second or over 24 hours.
    InvalidTtl(Duration),
    /// The clock-skew leeway is over 5 minutes.
    LeewayTooLarge(Duration),
    /// The maximum token size is outside 1 KiB..=64 KiB.
    InvalidMaxTokenBytes(usize),
}

impl fmt::Display for TokenConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingIssuer => f.write_str(
                "no token issuer configured: call `.issuer(\"https://auth.example.com\")` on the token service builder",
            ),
            Self::MissingAudience => f.write_str(
                "no token audience configured: call `.audience(\"https://api.example.com\")` on the token service builder",
            ),
            Self::MissingSigningKey => f.write_str(
                "no signing key configured: call `.signing_key(SigningKey::hs256(..))` (or rs256_pem/es256_pem/eddsa_pem) on the token service builder",
            ),
            Self::MultipleSigningKeys => f.write_str(
                "more than one signing key configured: exactly one key signs; add older keys with `.verification_key(..)` instead",
            ),
            Self::WeakSecret { kid, len } => write!(
                f,
                "HS256 secret for key `{kid}` is {len} bytes; at least 32 random bytes are required (RFC 8725 §3.5): generate one with `openssl rand -hex 32`",
            ),
            Self::WeakRsaKey { kid, bits } => write!(
                f,
                "RSA key `{kid}` has {bits} bits; at least 2048 are required: generate one with `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072`",
            ),
            Self::InvalidKey { kid, expected } => {
                write!(f, "key `{kid}` could not be read: expected {expected}")
            }
            Self::InvalidKid { kid } => write!(
                f,
                "key id {kid:?} is not allowed: use 1 to 128 characters from A-Z, a-z, 0-9, `.`, `_` and `-`",
            ),
            Self::DuplicateKid { kid } => write!(
                f,
                "key id `{kid}` is configured twice: every key needs its own kid (the signing key is already a verification key)",
            ),
            Self::InvalidTtl(ttl) => write!(
                f,
                "access-token ttl {ttl:?} is not allowed: choose between 1 second and 24 hours (the default is 30 minutes)",
            ),
            Self::LeewayTooLarge(leeway) => write!(
                f,
                "clock-skew leeway {leeway:?} is too large: choose at most 5 minutes (the default is 30 seconds)",
            ),
            Self::InvalidMaxTokenBytes(n) => write!(
                f,
                "maximum token size {n} bytes is not allowed: choose between 1024 and 65536 (the default is 8192)",
            ),
        }
    }
}

impl std::error::Error for TokenConfigError {}

/// An access token could not be issued.
///
/// ```
/// use secure_api::token::{SigningKey, TokenError, TokenService};
///
/// let tokens = TokenService::builder()
///     .issuer("https://auth.example.com")
///     .audience("https://api.example.com")
///     .signing_key(SigningKey::hs256("k1", b"an example secret, 32 bytes long!")?)
///     .build()?;
/// let err = tokens.issue("alice", &["orders read"]).unwrap_err();
/// assert_eq!(err, TokenError::InvalidScope("orders read".to_owned()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenError {
    /// The subject is empty.
    EmptySubject,
    /// A scope is empty or has a character outside RFC 6749's scope-token set
    /// (`%x21 / %x23-5B / %x5D-7E`: no space, `"` or `\`).
    InvalidScope(String),
    /// The signed token would be larger than the configured maximum, so it could never be verified.
    TooLarge {
        /// The length of the token, in bytes.
        len: usize,
        /// The configured maximum, in bytes.
        max: usize,
    },
    /// The operating system's random number generator failed.
    Randomness(String),
    /// Signing failed.
    Signing(String),
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EmptySubject => f.write_str("cannot issue an access token for an empty subject"),
            Self::InvalidScope(scope) => write!(
                f,
                "scope {scope:?} is not a valid scope token (RFC 6749 §3.3: non-empty, no space, `\"` or `\\`)",
            ),
            Self::TooLarge { len, max } => write!(
                f,
                "access token would be {len} bytes, over the configured maximum of {max}",
            ),
            Self::Randomness(e) => write!(f, "random number generator failed: {e}"),
            Self::Signing(e) => write!(f, "signing the access token failed: {e}"),
        }
    }
}

impl std::error::Error for TokenError {}
