//! The claims of an access token: what is written when issuing, what is read when verifying.

use serde::de::{self, IgnoredAny, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use super::error::TokenRejection;

/// The verified claims of an access token (RFC 9068 §2.2).
///
/// ```
/// use secure_api::token::{SigningKey, TokenService};
///
/// let tokens = TokenService::builder()
///     .issuer("https://auth.example.com")
///     .audience("https://api.example.com")
///     .signing_key(SigningKey::hs256("k1", b"an example secret, 32 bytes long!")?)
///     .build()?;
/// let issued = tokens.issue("alice", &["orders:read", "orders:write"])?;
///
/// let claims = tokens.verify(&issued.access_token)?;
/// assert_eq!(claims.sub, "alice");
/// assert_eq!(claims.aud, ["https://api.example.com"]);
/// assert_eq!(claims.scope, "orders:read orders:write");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessClaims {
    /// The subject: who the token was issued for.
    pub sub: String,
    /// The issuer; always the configured issuer.
    pub iss: String,
    /// The audiences; always contains the configured audience. A single-string `aud` becomes one entry.
    pub aud: Vec<String>,
    /// Expiry, in seconds since the Unix epoch.
    pub exp: u64,
    /// Issue time, in seconds since the Unix epoch.
    pub iat: u64,
    /// Not-before time, in seconds since the Unix epoch, if the token has one.
    pub nbf: Option<u64>,
    /// The token's unique id, if it has one.
    pub jti: Option<String>,
    /// The granted scopes, space-delimited (RFC 8693 §4.2); empty when the token has no `scope`.
    pub scope: String,
}

impl AccessClaims {
    /// The granted scopes, one by one.
    ///
    /// ```
    /// # let claims = secure_api::token::AccessClaims {
    /// #     sub: "alice".into(), iss: "i".into(), aud: vec!["a".into()], exp: 2, iat: 1,
    /// #     nbf: None, jti: None, scope: "orders:read orders:write".into(),
    /// # };
    /// let scopes: Vec<&str> = claims.scopes().collect();
    /// assert_eq!(scopes, ["orders:read", "orders:write"]);
    /// assert!(claims.scopes().any(|s| s == "orders:write"));
    /// ```
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.scope.split(' ').filter(|s| !s.is_empty())
    }
}

/// What [`TokenService::issue`](super::TokenService::issue) signs.
#[derive(Serialize)]
pub(super) struct IssuedClaims<'a> {
    pub iss: &'a str,
    pub sub: &'a str,
    pub aud: &'a str,
    pub exp: u64,
    pub nbf: u64,
    pub iat: u64,
    pub jti: &'a str,
    pub scope: &'a str,
}

/// RFC 6749 §3.3: `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`.
pub(super) fn is_scope_token(scope: &str) -> bool {
    !scope.is_empty()
        && scope
            .bytes()
            .all(|b| matches!(b, 0x21 | 0x23..=0x5B | 0x5D..=0x7E))
}

/// The claims as jsonwebtoken hands them over.
///
/// jsonwebtoken deserialises the claims type *before* running its own claim
/// checks, so a strict type here would turn "exp is a string" or "aud is a
/// number" into an anonymous JSON error. Every field is lenient instead, so
/// jsonwebtoken reports which claim failed, and [`RawClaims::into_access_claims`]
/// does the same for the claims jsonwebtoken does not know about. Duplicate
/// keys still fail, because the struct is derived.
#[derive(Deserialize)]
pub(super) struct RawClaims {
    #[serde(default)]
    sub: Option<Lenient<String>>,
    #[serde(default)]
    iss: Option<Lenient<String>>,
    #[serde(default)]
    aud: Option<Lenient<Audience>>,
    #[serde(default)]
    exp: Option<Lenient<NumericDate>>,
    #[serde(default)]
    nbf: Option<Lenient<NumericDate>>,
    #[serde(default)]
    iat: Option<Lenient<NumericDate>>,
    #[serde(default)]
    jti: Option<Lenient<String>>,
    #[serde(default)]
    scope: Option<Lenient<String>>,
}

impl RawClaims {
    /// Finishes validation after jsonwebtoken has checked the signature, `exp`,
    /// `nbf`, `iss`, `aud` and the presence of `sub`.
    pub(super) fn into_access_claims(
        self,
        now: u64,
        leeway: u64,
    ) -> Result<AccessClaims, TokenRejection> {
        let sub = required(self.sub, "sub")?;
        if sub.is_empty() {
            return Err(TokenRejection::InvalidClaim("sub"));
        }
        let iat = required(self.iat, "iat")?.0;
        // jsonwebtoken never looks at iat; a token "issued" in the future was
        // minted by a clock (or a forger) we should not trust.
        if iat > now.saturating_add(leeway) {
            return Err(TokenRejection::IssuedInFuture);
        }
        Ok(AccessClaims {
            sub,
            iss: required(self.iss, "iss")?,
            aud: match required(self.aud, "aud")? {
                Audience::One(aud) => vec![aud],
                Audience::Many(aud) => aud,
            },
            exp: required(self.exp, "exp")?.0,
            iat,
            nbf: optional(self.nbf, "nbf")?.map(|nbf| nbf.0),
            jti: optional(self.jti, "jti")?,
            scope: optional(self.scope, "scope")?.unwrap_or_default(),
        })
    }
}

fn required<T>(claim: Option<Lenient<T>>, name: &'static str) -> Result<T, TokenRejection> {
    optional(claim, name)?.ok_or(TokenRejection::MissingClaim(name))
}

fn optional<T>(claim: Option<Lenient<T>>, name: &'static str) -> Result<Option<T>, TokenRejection> {
    match claim {
        None => Ok(None),
        Some(Lenient::Valid(value)) => Ok(Some(value)),
        Some(Lenient::Invalid(_)) => Err(TokenRejection::InvalidClaim(name)),
    }
}

// `untagged` buffers the whole value before trying `T`, so a value of the
// wrong type is skipped cleanly instead of leaving the parser mid-value.
#[derive(Deserialize)]
#[serde(untagged)]
enum Lenient<T> {
    Valid(T),
    Invalid(IgnoredAny),
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

/// An RFC 7519 NumericDate, read exactly as jsonwebtoken reads `exp` and `nbf`
/// (a non-negative integer, or a finite non-negative float that is rounded),
/// so both sides agree on every value.
struct NumericDate(u64);

impl<'de> Deserialize<'de> for NumericDate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NumericDateVisitor;

        impl Visitor<'_> for NumericDateVisitor {
            type Value = NumericDate;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a non-negative number of seconds since the Unix epoch")
            }

            fn visit_u64<E: de::Error>(self, value: u64) -> Result<NumericDate, E> {
                Ok(NumericDate(value))
            }

            fn visit_f64<E: de::Error>(self, value: f64) -> Result<NumericDate, E> {
                if value.is_finite() && value >= 0.0 && value < u64::MAX as f64 {
                    Ok(NumericDate(value.round() as u64))
                } else {
                    Err(E::custom("NumericDate out of range"))
                }
            }
        }

        deserializer.deserialize_any(NumericDateVisitor)
    }
}
