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

/// The claims as read from the token, before any check.
///
/// Every field is lenient, so a claim of the wrong JSON type is reported by name
/// ("exp is a string", "aud is a number") rather than as an anonymous JSON error.
/// Duplicate keys still fail, because the struct is derived. `iss` and `aud` accept a
/// string or an array of strings, as jsonwebtoken's reading did.
#[derive(Deserialize)]
pub(super) struct RawClaims {
    #[serde(default)]
    sub: Option<Lenient<String>>,
    #[serde(default)]
    iss: Option<Lenient<Strings>>,
    #[serde(default)]
    aud: Option<Lenient<Strings>>,
    #[serde(default)]
    exp: Option<Lenient<NumericDate>>,
    // jsonwebtoken refused `"nbf": null` (its reader wants a number when the key is
    // there), where `Option` would read it as absent.
    #[serde(default, deserialize_with = "null_is_invalid")]
    nbf: Option<Lenient<NumericDate>>,
    #[serde(default)]
    iat: Option<Lenient<NumericDate>>,
    #[serde(default)]
    jti: Option<Lenient<String>>,
    #[serde(default)]
    scope: Option<Lenient<String>>,
}

impl RawClaims {
    /// The registered claims' checks, with jsonwebtoken 11's outcomes in its order
    /// (what `jsonwebtoken::decode` did here before the signature was checked by this
    /// crate): the required claims (`exp`, `iss`, `aud`, `sub`, each present with its
    /// type), then a malformed `nbf`, `exp` against `now` less the leeway, `nbf`
    /// against `now` plus it, then `iss` and `aud` (one of the token's values must be
    /// the configured one).
    pub(super) fn check_registered(
        &self,
        issuer: &str,
        audience: &str,
        now: u64,
        leeway: u64,
    ) -> Result<(), TokenRejection> {
        fn parsed<T>(claim: &Option<Lenient<T>>) -> Option<&T> {
            match claim {
                Some(Lenient::Valid(value)) => Some(value),
                _ => None,
            }
        }
        let exp = parsed(&self.exp).ok_or(TokenRejection::MissingClaim("exp"))?;
        let iss = parsed(&self.iss).ok_or(TokenRejection::MissingClaim("iss"))?;
        let aud = parsed(&self.aud).ok_or(TokenRejection::MissingClaim("aud"))?;
        parsed(&self.sub).ok_or(TokenRejection::MissingClaim("sub"))?;
        if let Some(Lenient::Invalid) = self.nbf {
            return Err(TokenRejection::InvalidClaim("nbf"));
        }
        if exp.0 < now.saturating_sub(leeway) {
            return Err(TokenRejection::Expired);
        }
        if let Some(nbf) = parsed(&self.nbf)
            && nbf.0 > now.saturating_add(leeway)
        {
            return Err(TokenRejection::NotYetValid);
        }
        if !iss.contains(issuer) {
            return Err(TokenRejection::WrongIssuer);
        }
        if !aud.contains(audience) {
            return Err(TokenRejection::WrongAudience);
        }
        Ok(())
    }

    /// Finishes validation after [`Self::check_registered`]: `sub` not empty, `iat`
    /// present and not in the future, `iss` a single string, the optional claims of
    /// their types.
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
        // A token "issued" in the future was minted by a clock (or a forger) we
        // should not trust.
        if iat > now.saturating_add(leeway) {
            return Err(TokenRejection::IssuedInFuture);
        }
        Ok(AccessClaims {
            sub,
            iss: match required(self.iss, "iss")? {
                Strings::One(iss) => iss,
                // Accepted by the checks when one of them is ours, but an access
                // token has one issuer (RFC 9068 §2.2).
                Strings::Many(_) => return Err(TokenRejection::InvalidClaim("iss")),
            },
            aud: match required(self.aud, "aud")? {
                Strings::One(aud) => vec![aud],
                Strings::Many(aud) => aud,
            },
            exp: required(self.exp, "exp")?.0,
            iat,
            nbf: optional(self.nbf, "nbf")?.map(|nbf| nbf.0),
            jti: optional(self.jti, "jti")?,
            scope: optional(self.scope, "scope")?.unwrap_or_default(),
        })
    }
}

/// A claim that is present, `null` included, as [`Lenient`] judges it.
fn null_is_invalid<'de, D, T>(deserializer: D) -> Result<Option<Lenient<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: ClaimValue,
{
    Lenient::deserialize(deserializer).map(Some)
}

fn required<T>(claim: Option<Lenient<T>>, name: &'static str) -> Result<T, TokenRejection> {
    optional(claim, name)?.ok_or(TokenRejection::MissingClaim(name))
}

fn optional<T>(claim: Option<Lenient<T>>, name: &'static str) -> Result<Option<T>, TokenRejection> {
    match claim {
        None => Ok(None),
        Some(Lenient::Valid(value)) => Ok(Some(value)),
        Some(Lenient::Invalid) => Err(TokenRejection::InvalidClaim(name)),
    }
}

/// A claim's value, or the mark that it had the wrong type.
///
/// Read in one pass, by the JSON type the parser meets (no buffering of the value, as
/// `#[serde(untagged)]` would do: that cost two allocations per claim on every request).
enum Lenient<T> {
    Valid(T),
    Invalid,
}

/// The JSON types a claim accepts; every other type makes it [`Lenient::Invalid`].
trait ClaimValue: Sized {
    fn from_str(_: &str) -> Option<Self> {
        None
    }
    fn from_u64(_: u64) -> Option<Self> {
        None
    }
    fn from_f64(_: f64) -> Option<Self> {
        None
    }
    /// An array, when each of its items is a string.
    fn from_strings(_: Vec<String>) -> Option<Self> {
        None
    }
}

impl ClaimValue for String {
    fn from_str(value: &str) -> Option<Self> {
        Some(value.to_owned())
    }
}

impl<'de, T: ClaimValue> Deserialize<'de> for Lenient<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(LenientVisitor(std::marker::PhantomData))
    }
}

struct LenientVisitor<T>(std::marker::PhantomData<T>);

impl<T> LenientVisitor<T> {
    fn judge(value: Option<T>) -> Lenient<T> {
        value.map_or(Lenient::Invalid, Lenient::Valid)
    }
}

impl<'de, T: ClaimValue> Visitor<'de> for LenientVisitor<T> {
    type Value = Lenient<T>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
        Ok(Self::judge(T::from_str(value)))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Self::Value, E> {
        Ok(Self::judge(T::from_u64(value)))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Self::Value, E> {
        // serde_json hands non-negative integers to `visit_u64`: this one is negative.
        match u64::try_from(value) {
            Ok(value) => self.visit_u64(value),
            Err(_) => Ok(Lenient::Invalid),
        }
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Self::Value, E> {
        Ok(Self::judge(T::from_f64(value)))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Lenient::Invalid)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Lenient::Invalid)
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut items: A) -> Result<Self::Value, A::Error> {
        let mut strings = Vec::new();
        let mut all_strings = true;
        // Read to the end whatever the items are, so the parser leaves the array whole.
        while let Some(item) = items.next_element::<Lenient<String>>()? {
            match item {
                Lenient::Valid(string) if all_strings => strings.push(string),
                _ => all_strings = false,
            }
        }
        Ok(match all_strings {
            true => Self::judge(T::from_strings(strings)),
            false => Lenient::Invalid,
        })
    }

    fn visit_map<A: de::MapAccess<'de>>(self, mut entries: A) -> Result<Self::Value, A::Error> {
        while entries.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Lenient::Invalid)
    }
}

/// `iss` or `aud`: a string, or an array of strings.
enum Strings {
    One(String),
    Many(Vec<String>),
}

impl Strings {
    fn contains(&self, wanted: &str) -> bool {
        match self {
            Strings::One(value) => value == wanted,
            Strings::Many(values) => values.iter().any(|value| value == wanted),
        }
    }
}

impl ClaimValue for Strings {
    fn from_str(value: &str) -> Option<Self> {
        Some(Strings::One(value.to_owned()))
    }
    fn from_strings(values: Vec<String>) -> Option<Self> {
        Some(Strings::Many(values))
    }
}

/// An RFC 7519 NumericDate, read as jsonwebtoken reads `exp` and `nbf` (a
/// non-negative integer, or a finite non-negative float that is rounded), so tokens
/// it accepted are accepted here.
struct NumericDate(u64);

impl ClaimValue for NumericDate {
    fn from_u64(value: u64) -> Option<Self> {
        Some(NumericDate(value))
    }

    fn from_f64(value: f64) -> Option<Self> {
        (value.is_finite() && value >= 0.0 && value < u64::MAX as f64)
            .then(|| NumericDate(value.round() as u64))
    }
}
