//! JWT access tokens (RFC 9068): issuing and verifying.
//!
//! A [`TokenService`] is configured once at start-up with an issuer, an
//! audience and keys. Every key has a `kid` and exactly one algorithm
//! (HS256, RS256, ES256 or EdDSA). Exactly one key signs; any number of
//! other keys only verify, which is how keys are rotated:
//!
//! 1. deploy the new key as a [`VerificationKey`] everywhere tokens are verified;
//! 2. make it the [`SigningKey`] and keep the old one as a verification key;
//! 3. once the old key's last token has expired (after one `ttl`), remove the old key.
//!
//! ```
//! use std::time::Duration;
//! use secure_api::token::{SigningKey, TokenService};
//!
//! // In production, load the secret from the environment or a secret store.
//! let tokens = TokenService::builder()
//!     .issuer("https://auth.example.com")
//!     .audience("https://api.example.com")
//!     .ttl(Duration::from_secs(15 * 60))
//!     .signing_key(SigningKey::hs256("2026-01", b"an example secret, 32 bytes long!")?)
//!     .build()?;
//!
//! let issued = tokens.issue("alice", &["orders:read"])?;
//! let claims = tokens.verify(&issued.access_token)?;
//! assert_eq!(claims.sub, "alice");
//! assert!(claims.scopes().eq(["orders:read"]));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Verification is strict on purpose (RFC 8725, RFC 9068 §4): the token must
//! be at most `max_token_bytes` of base64url, must not carry `crit`, must be
//! typed `at+jwt`, must name a configured `kid` (or omit it when only one key
//! is configured), must use that key's algorithm, must verify, and must carry
//! `sub`, `iss`, `aud`, `exp` and `iat` with the right values. The reason for
//! a rejection ([`TokenRejection`]) is for server logs only.

mod claims;
mod error;
mod keys;
mod verify;
pub(crate) use verify::{JwtText, byte_table};

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, Header};
use sha2::Sha256;

pub use claims::AccessClaims;
pub use error::{TokenConfigError, TokenError, TokenRejection};
pub use keys::{SigningKey, VerificationKey};

use claims::IssuedClaims;

const DEFAULT_TTL: Duration = Duration::from_secs(30 * 60);
const MAX_TTL: Duration = Duration::from_secs(24 * 60 * 60);
const DEFAULT_LEEWAY: Duration = Duration::from_secs(30);
const MAX_LEEWAY: Duration = Duration::from_secs(5 * 60);
const DEFAULT_MAX_TOKEN_BYTES: usize = 8 * 1024;
const MAX_TOKEN_BYTES_RANGE: std::ops::RangeInclusive<usize> = 1024..=64 * 1024;
/// RFC 9068 §2.1 recommends the short form.
const ACCESS_TOKEN_TYPE: &str = "at+jwt";
/// 128 bits: enough that two ids never collide by chance.
const JTI_BYTES: usize = 16;

/// Issues and verifies JWT access tokens. Cheap to clone; share one per process.
///
/// ```
/// use secure_api::token::{SigningKey, TokenService};
///
/// let tokens = TokenService::builder()
///     .issuer("https://auth.example.com")
///     .audience("https://api.example.com")
///     .signing_key(SigningKey::hs256("k1", b"an example secret, 32 bytes long!")?)
///     .build()?;
/// let for_a_handler = tokens.clone();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct TokenService {
    inner: Arc<Inner>,
}

struct Inner {
    issuer: String,
    audience: String,
    ttl: Duration,
    leeway: Duration,
    max_token_bytes: usize,
    signing_key: SigningKey,
    /// Built once: only `kid` and `alg` ever vary, and they are fixed per key.
    header: Header,
    verifiers: HashMap<String, Verifier>,
}

struct Verifier {
    key: VerificationKey,
    /// An HS256 key's MAC, keyed once at start-up: keying hashes two blocks, which
    /// would otherwise be a fifth of the work of every authenticated request.
    hs256: Option<Hmac<Sha256>>,
}

impl TokenService {
    /// Starts configuring a token service.
    ///
    /// ```
    /// use secure_api::token::{SigningKey, TokenService};
    ///
    /// let tokens = TokenService::builder()
    ///     .issuer("https://auth.example.com")
    ///     .audience("https://api.example.com")
    ///     .signing_key(SigningKey::hs256("k1", b"an example secret, 32 bytes long!")?)
    ///     .build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn builder() -> TokenServiceBuilder {
        TokenServiceBuilder::default()
    }

    /// Issues an access token for `subject` with exactly these scopes.
    ///
    /// The token is signed with the signing key and carries `iss`, `sub`,
    /// `aud`, `exp`, `nbf`, `iat`, a random `jti`, `scope` and the headers
    /// `typ: at+jwt` and `kid`.
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
    /// assert_eq!(issued.scope, "orders:read orders:write");
    /// assert_eq!(issued.expires_in, 30 * 60);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn issue<S: AsRef<str>>(
        &self,
        subject: &str,
        scopes: &[S],
    ) -> Result<IssuedToken, TokenError> {
        self.issue_at(subject, scopes, now_unix())
    }

    fn issue_at<S: AsRef<str>>(
        &self,
        subject: &str,
        scopes: &[S],
        now: u64,
    ) -> Result<IssuedToken, TokenError> {
        let inner = &*self.inner;
        if subject.is_empty() {
            return Err(TokenError::EmptySubject);
        }
        if let Some(bad) = scopes
            .iter()
            .map(AsRef::as_ref)
            .find(|s| !claims::is_scope_token(s))
        {
            return Err(TokenError::InvalidScope(bad.to_owned()));
        }
        let scope = scopes
            .iter()
            .map(AsRef::as_ref)
            .collect::<Vec<_>>()
            .join(" ");
        let jti = random_jti()?;
        let ttl = inner.ttl.as_secs();
        let claims = IssuedClaims {
            iss: &inner.issuer,
            sub: subject,
            aud: &inner.audience,
            exp: now.saturating_add(ttl),
            nbf: now,
            iat: now,
            jti: &jti,
            scope: &scope,
        };
        let access_token =
            jsonwebtoken::encode(&inner.header, &claims, &inner.signing_key.encoding)
                .map_err(|e| TokenError::Signing(e.to_string()))?;
        // A token we could not verify ourselves is useless to the client.
        if access_token.len() > inner.max_token_bytes {
            return Err(TokenError::TooLarge {
                len: access_token.len(),
                max: inner.max_token_bytes,
            });
        }
        Ok(IssuedToken {
            access_token,
            expires_in: ttl,
            scope,
            jti,
        })
    }

    /// Verifies an access token and returns its claims.
    ///
    /// The rejection reason is logged at `debug` level and returned for the
    /// caller's logs; never send it to the client (answer `invalid_token`).
    ///
    /// ```
    /// use secure_api::token::{SigningKey, TokenRejection, TokenService};
    ///
    /// let tokens = TokenService::builder()
    ///     .issuer("https://auth.example.com")
    ///     .audience("https://api.example.com")
    ///     .signing_key(SigningKey::hs256("k1", b"an example secret, 32 bytes long!")?)
    ///     .build()?;
    /// let issued = tokens.issue("alice", &["orders:read"])?;
    /// assert_eq!(tokens.verify(&issued.access_token)?.sub, "alice");
    /// assert_eq!(tokens.verify("not a token"), Err(TokenRejection::Malformed));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn verify(&self, token: &str) -> Result<AccessClaims, TokenRejection> {
        // A token too large is refused before it is read (a huge one of valid bytes
        // would otherwise be scanned first).
        if token.len() > self.inner.max_token_bytes {
            return Self::logged(Err(TokenRejection::TooLarge));
        }
        match JwtText::new(token.as_bytes()) {
            Some(text) => self.verify_text(text),
            None => Self::logged(Err(TokenRejection::Malformed)),
        }
    }

    /// [`verify`](Self::verify) for a token whose bytes were already checked.
    pub(crate) fn verify_text(&self, token: JwtText<'_>) -> Result<AccessClaims, TokenRejection> {
        Self::logged(self.inner.verify(token, now_unix()))
    }

    fn logged(
        result: Result<AccessClaims, TokenRejection>,
    ) -> Result<AccessClaims, TokenRejection> {
        if let Err(reason) = &result {
            tracing::debug!(%reason, "access token rejected");
        }
        result
    }

    /// How long issued tokens are valid.
    ///
    /// ```
    /// use std::time::Duration;
    /// use secure_api::token::{SigningKey, TokenService};
    ///
    /// let tokens = TokenService::builder()
    ///     .issuer("https://auth.example.com")
    ///     .audience("https://api.example.com")
    ///     .signing_key(SigningKey::hs256("k1", b"an example secret, 32 bytes long!")?)
    ///     .build()?;
    /// assert_eq!(tokens.ttl(), Duration::from_secs(30 * 60));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn ttl(&self) -> Duration {
        self.inner.ttl
    }
}

impl Inner {
    // `now` (the system clock, in seconds) drives every time check: exp, nbf, iat.
    // The steps, in order: shape, header, key, signature, claims; each refusal names
    // the first step that failed.
    fn verify(&self, token: JwtText<'_>, now: u64) -> Result<AccessClaims, TokenRejection> {
        let parts = verify::check_shape(token, self.max_token_bytes)?;
        let header_json = verify::decode_part(parts.header)?;
        let header = verify::read_header(&header_json)?;
        if header.crit.0 {
            return Err(TokenRejection::UnsupportedCritical);
        }
        if !verify::is_access_token_type(header.typ.as_deref()) {
            return Err(TokenRejection::WrongType);
        }
        let verifier = match header.kid.as_deref() {
            Some(kid) => self.verifiers.get(kid).ok_or(TokenRejection::UnknownKey)?,
            None => {
                let mut keys = self.verifiers.values();
                match (keys.next(), keys.next()) {
                    (Some(only), None) => only,
                    _ => return Err(TokenRejection::MissingKeyId),
                }
            }
        };
        // The key decides the algorithm; the token's `alg` must merely agree.
        if header.alg.parse::<Algorithm>().ok() != Some(verifier.key.algorithm) {
            return Err(TokenRejection::WrongAlgorithm);
        }
        verify::check_signature(&parts, &verifier.key, verifier.hs256.as_ref())?;
        let claims = verify::read_claims(parts.payload)?;
        let leeway = self.leeway.as_secs();
        claims.check_registered(&self.issuer, &self.audience, now, leeway)?;
        claims.into_access_claims(now, leeway)
    }
}

impl fmt::Debug for TokenService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &*self.inner;
        let mut verification_keys: Vec<_> = inner.verifiers.values().map(|v| &v.key).collect();
        verification_keys.sort_by(|a, b| a.kid.cmp(&b.kid));
        f.debug_struct("TokenService")
            .field("issuer", &inner.issuer)
            .field("audience", &inner.audience)
            .field("ttl", &inner.ttl)
            .field("leeway", &inner.leeway)
            .field("max_token_bytes", &inner.max_token_bytes)
            .field("signing_key", &inner.signing_key)
            .field("verification_keys", &verification_keys)
            .finish()
    }
}

/// Configures a [`TokenService`]; see [`TokenService::builder`].
///
/// `issuer`, `audience` and one `signing_key` are required. Defaults: `ttl`
/// 30 minutes, `leeway` 30 seconds, `max_token_bytes` 8192.
///
/// ```
/// use std::time::Duration;
/// use secure_api::token::{SigningKey, TokenService, VerificationKey};
///
/// let tokens = TokenService::builder()
///     .issuer("https://auth.example.com")
///     .audience("https://api.example.com")
///     .ttl(Duration::from_secs(10 * 60))
///     .leeway(Duration::from_secs(10))
///     .max_token_bytes(4096)
///     .signing_key(SigningKey::hs256("2026-01", b"the current secret, 32 bytes ok!")?)
///     .verification_key(VerificationKey::hs256("2025-12", b"the previous secret, 32 bytes ok")?)
///     .build()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct TokenServiceBuilder {
    issuer: String,
    audience: String,
    ttl: Duration,
    leeway: Duration,
    max_token_bytes: usize,
    signing_keys: Vec<SigningKey>,
    verification_keys: Vec<VerificationKey>,
}

impl Default for TokenServiceBuilder {
    fn default() -> Self {
        Self {
            issuer: String::new(),
            audience: String::new(),
            ttl: DEFAULT_TTL,
            leeway: DEFAULT_LEEWAY,
            max_token_bytes: DEFAULT_MAX_TOKEN_BYTES,
            signing_keys: Vec::new(),
            verification_keys: Vec::new(),
        }
    }
}

impl TokenServiceBuilder {
    /// The `iss` written into and required from every token. Required.
    ///
    /// ```
    /// let builder = secure_api::token::TokenService::builder().issuer("https://auth.example.com");
    /// ```
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = issuer.into();
        self
    }

    /// The `aud` written into every token and required in every token. Required.
    ///
    /// ```
    /// let builder = secure_api::token::TokenService::builder().audience("https://api.example.com");
    /// ```
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = audience.into();
        self
    }

    /// How long issued tokens are valid: 1 second to 24 hours, default 30 minutes.
    /// Whole seconds count; a fraction is dropped.
    ///
    /// ```
    /// use std::time::Duration;
    /// let builder = secure_api::token::TokenService::builder().ttl(Duration::from_secs(600));
    /// ```
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// Allowed clock skew for `exp`, `nbf` and `iat`: at most 5 minutes, default 30 seconds.
    /// Whole seconds count; a fraction is dropped.
    ///
    /// ```
    /// use std::time::Duration;
    /// let builder = secure_api::token::TokenService::builder().leeway(Duration::from_secs(10));
    /// ```
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Longer tokens are rejected before any decoding: 1024 to 65536 bytes, default 8192.
    ///
    /// ```
    /// let builder = secure_api::token::TokenService::builder().max_token_bytes(4096);
    /// ```
    pub fn max_token_bytes(mut self, max_token_bytes: usize) -> Self {
        self.max_token_bytes = max_token_bytes;
        self
    }

    /// The key that signs new tokens. Exactly one is required; it also verifies.
    ///
    /// ```
    /// use secure_api::token::{SigningKey, TokenService};
    ///
    /// let builder = TokenService::builder()
    ///     .signing_key(SigningKey::hs256("k1", b"an example secret, 32 bytes long!")?);
    /// # Ok::<(), secure_api::token::TokenConfigError>(())
    /// ```
    pub fn signing_key(mut self, key: SigningKey) -> Self {
        self.signing_keys.push(key);
        self
    }

    /// An additional key that only verifies (for example, the previous signing key).
    /// Each `kid` may be configured once.
    ///
    /// ```
    /// use secure_api::token::{TokenService, VerificationKey};
    ///
    /// let builder = TokenService::builder()
    ///     .verification_key(VerificationKey::hs256("k0", b"the previous secret, 32 bytes ok")?);
    /// # Ok::<(), secure_api::token::TokenConfigError>(())
    /// ```
    pub fn verification_key(mut self, key: VerificationKey) -> Self {
        self.verification_keys.push(key);
        self
    }

    /// Checks the configuration and builds the service.
    ///
    /// ```
    /// use secure_api::token::{TokenConfigError, TokenService};
    ///
    /// let err = TokenService::builder().audience("https://api.example.com").build().unwrap_err();
    /// assert_eq!(err, TokenConfigError::MissingIssuer);
    /// ```
    pub fn build(self) -> Result<TokenService, TokenConfigError> {
        if self.issuer.is_empty() {
            return Err(TokenConfigError::MissingIssuer);
        }
        if self.audience.is_empty() {
            return Err(TokenConfigError::MissingAudience);
        }
        if self.ttl.as_secs() < 1 || self.ttl > MAX_TTL {
            return Err(TokenConfigError::InvalidTtl(self.ttl));
        }
        if self.leeway > MAX_LEEWAY {
            return Err(TokenConfigError::LeewayTooLarge(self.leeway));
        }
        if !MAX_TOKEN_BYTES_RANGE.contains(&self.max_token_bytes) {
            return Err(TokenConfigError::InvalidMaxTokenBytes(self.max_token_bytes));
        }
        let mut signing_keys = self.signing_keys.into_iter();
        let signing_key = signing_keys
            .next()
            .ok_or(TokenConfigError::MissingSigningKey)?;
        if signing_keys.next().is_some() {
            return Err(TokenConfigError::MultipleSigningKeys);
        }

        let mut verifiers = HashMap::new();
        let all_keys =
            std::iter::once(signing_key.verification.clone()).chain(self.verification_keys);
        for key in all_keys {
            if verifiers.contains_key(&key.kid) {
                return Err(TokenConfigError::DuplicateKid { kid: key.kid });
            }
            // Every HS256 key holds its secret; were one not to, jsonwebtoken's
            // provider would check its tokens instead.
            let hs256 = match key.algorithm {
                Algorithm::HS256 => key
                    .decoding
                    .try_get_as_bytes()
                    .ok()
                    .and_then(|secret| Hmac::<Sha256>::new_from_slice(secret).ok()),
                _ => None,
            };
            verifiers.insert(key.kid.clone(), Verifier { key, hs256 });
        }

        let mut header = Header::new(signing_key.algorithm());
        header.typ = Some(ACCESS_TOKEN_TYPE.to_owned());
        header.kid = Some(signing_key.kid().to_owned());

        let service = TokenService {
            inner: Arc::new(Inner {
                issuer: self.issuer,
                audience: self.audience,
                ttl: self.ttl,
                leeway: self.leeway,
                max_token_bytes: self.max_token_bytes,
                signing_key,
                header,
                verifiers,
            }),
        };
        tracing::info!(service = ?service, "access-token service configured");
        Ok(service)
    }
}

/// A freshly issued access token, ready for an RFC 6749 §5.1 token response.
///
/// `Debug` hides the token itself.
///
/// ```
/// use secure_api::token::{SigningKey, TokenService};
///
/// let tokens = TokenService::builder()
///     .issuer("https://auth.example.com")
///     .audience("https://api.example.com")
///     .signing_key(SigningKey::hs256("k1", b"an example secret, 32 bytes long!")?)
///     .build()?;
/// let issued = tokens.issue("alice", &["orders:read"])?;
/// assert_eq!(issued.expires_in, 1800);
/// assert!(!format!("{issued:?}").contains(&issued.access_token));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct IssuedToken {
    /// The signed JWT.
    pub access_token: String,
    /// Seconds until the token expires.
    pub expires_in: u64,
    /// The granted scopes, space-delimited.
    pub scope: String,
    /// The token's unique id (`jti`), e.g. for a revocation list.
    pub jti: String,
}

impl fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedToken")
            .field("access_token", &"[redacted]")
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .field("jti", &self.jti)
            .finish()
    }
}

fn random_jti() -> Result<String, TokenError> {
    let mut bytes = [0u8; JTI_BYTES];
    getrandom::getrandom(&mut bytes).map_err(|e| TokenError::Randomness(e.to_string()))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

fn now_unix() -> u64 {
    // Only a clock set before 1970 fails here; 0 then fails safe (every `iat` looks future).
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
