//! A ready OAuth2 token endpoint: the resource owner password credentials grant
//! (RFC 6749 §4.3), over any [`UserStore`](crate::users::UserStore).
//!
//! Refusals follow RFC 6749 §5.2: **400** with `{"error": "invalid_grant"}` for a wrong
//! username or password, the same body, headers and (through a dummy hash) the same
//! time whether or not the user exists or is disabled.

use crate::{
    Authenticator,
    password::{PasswordError, PasswordHasher},
    ratelimit::{LoginAttempt, LoginThrottle, LoginThrottled},
};
use poem::Request;
use poem_openapi::{ApiResponse, Object, OpenApi, payload::Form, payload::Json};
use serde::Deserialize;

/// The token endpoint, mounted at `/token` (nest it elsewhere and set
/// `#[scopes(token_url = "...")]` to match).
///
/// ```
/// use secure_api::{Authenticator, oauth2::PasswordGrant, password::PasswordHasher};
/// use secure_api::{token::{SigningKey, TokenService}, users::InMemoryUserStore};
/// use secure_api::poem_openapi::OpenApiService;
///
/// let tokens = TokenService::builder().issuer("https://api.example.com")
///     .audience("https://api.example.com")
///     .signing_key(SigningKey::hs256("main", &[42u8; 32]).unwrap())
///     .build().unwrap();
/// let auth = Authenticator::new(tokens, InMemoryUserStore::new());
/// let api = OpenApiService::new(PasswordGrant::new(auth, PasswordHasher::new()), "Demo", "1.0");
/// ```
#[derive(Debug, Clone)]
pub struct PasswordGrant {
    authenticator: Authenticator,
    hasher: PasswordHasher,
    throttle: Option<LoginThrottle>,
}

impl PasswordGrant {
    /// A token endpoint that checks passwords with `hasher` and issues tokens with the
    /// authenticator's token service, for the users of its store.
    ///
    /// ```
    /// # use secure_api::{Authenticator, oauth2::PasswordGrant, password::PasswordHasher};
    /// # use secure_api::{token::{SigningKey, TokenService}, users::InMemoryUserStore};
    /// # let tokens = TokenService::builder().issuer("i").audience("a")
    /// #     .signing_key(SigningKey::hs256("k", &[1u8; 32]).unwrap()).build().unwrap();
    /// let grant = PasswordGrant::new(Authenticator::new(tokens, InMemoryUserStore::new()), PasswordHasher::new());
    /// ```
    pub fn new(authenticator: Authenticator, hasher: PasswordHasher) -> Self {
        PasswordGrant {
            authenticator,
            hasher,
            throttle: None,
        }
    }

    /// Throttles failed logins per client IP and username: past the throttle's quota,
    /// every login of that IP and username gets 429 with `Retry-After`, right password
    /// included, until the window lets one through (see [`LoginThrottle`]); each such
    /// 429 comes after the throttle's [tarpit](LoginThrottle::tarpit) delay.
    ///
    /// ```
    /// # use secure_api::{Authenticator, oauth2::PasswordGrant, password::PasswordHasher};
    /// # use secure_api::{token::{SigningKey, TokenService}, users::InMemoryUserStore};
    /// use secure_api::ratelimit::{Limiter, LoginThrottle};
    /// # let tokens = TokenService::builder().issuer("i").audience("a")
    /// #     .signing_key(SigningKey::hs256("k", &[1u8; 32]).unwrap()).build().unwrap();
    /// # let auth = Authenticator::new(tokens, InMemoryUserStore::new());
    /// let throttle = LoginThrottle::new(Limiter::in_memory(), "5/15m".parse().unwrap());
    /// let grant = PasswordGrant::new(auth, PasswordHasher::new()).throttle(throttle);
    /// ```
    pub fn throttle(mut self, throttle: LoginThrottle) -> Self {
        self.throttle = Some(throttle);
        self
    }
}

/// The form of a token request (RFC 6749 §4.3.2).
///
/// ```
/// # use secure_api::oauth2::TokenRequest;
/// // What `grant_type=password&username=alice&password=s3cret&scope=users%3Aread` becomes:
/// let request = TokenRequest {
///     grant_type: "password".into(),
///     username: "alice".into(),
///     password: "s3cret".into(),
///     scope: Some("users:read".into()),
/// };
/// ```
#[derive(Deserialize, Object)]
pub struct TokenRequest {
    /// Must be `password`.
    pub grant_type: String,
    /// The user's name.
    pub username: String,
    /// The user's password.
    #[oai(write_only)]
    pub password: String,
    /// The scopes asked for, space-separated; the token carries those the user has.
    /// Absent or empty: all of the user's scopes.
    pub scope: Option<String>,
}

/// A successful token response (RFC 6749 §5.1).
///
/// ```
/// # use secure_api::oauth2::AccessTokenBody;
/// let body = AccessTokenBody {
///     access_token: "eyJ...".into(),
///     token_type: "bearer".into(),
///     expires_in: 1800,
///     scope: "users:read".into(),
/// };
/// ```
#[derive(Object)]
pub struct AccessTokenBody {
    /// The bearer token.
    pub access_token: String,
    /// Always `bearer`.
    pub token_type: String,
    /// Seconds until the token expires.
    pub expires_in: u64,
    /// The scopes granted, space-separated.
    pub scope: String,
}

/// An error response of the token endpoint (RFC 6749 §5.2).
///
/// ```
/// # use secure_api::oauth2::OAuthErrorBody;
/// let body = OAuthErrorBody {
///     error: "invalid_grant".into(),
///     error_description: "wrong username or password".into(),
/// };
/// ```
#[derive(Object)]
pub struct OAuthErrorBody {
    /// `invalid_request`, `invalid_grant`, `unsupported_grant_type`, `invalid_scope`
    /// or `temporarily_unavailable`.
    pub error: String,
    /// A human-readable explanation.
    pub error_description: String,
}

/// The answers of the token endpoint.
///
/// ```
/// # use secure_api::oauth2::{OAuthErrorBody, TokenResponse};
/// # use secure_api::poem_openapi::payload::Json;
/// let refused = TokenResponse::Refused(
///     Json(OAuthErrorBody { error: "invalid_grant".into(), error_description: String::new() }),
///     "no-store".into(),
///     "no-cache".into(),
/// );
/// ```
#[derive(ApiResponse)]
#[oai(bad_request_handler = "malformed_token_request")]
pub enum TokenResponse {
    /// A token was issued.
    #[oai(status = 200)]
    Issued(
        Json<AccessTokenBody>,
        #[oai(header = "Cache-Control")] String,
        #[oai(header = "Pragma")] String,
    ),
    /// The request was refused (RFC 6749 §5.2); a wrong username and a wrong
    /// password give the same `invalid_grant`.
    #[oai(status = 400)]
    Refused(
        Json<OAuthErrorBody>,
        #[oai(header = "Cache-Control")] String,
        #[oai(header = "Pragma")] String,
    ),
    /// The user store is unavailable, or the password hashers are saturated; retry
    /// later.
    #[oai(status = 503)]
    Unavailable(Json<OAuthErrorBody>, #[oai(header = "Retry-After")] u32),
    /// Too many failed logins for this username from this address (when the service
    /// throttles logins); retry after `Retry-After` seconds.
    #[oai(status = 429)]
    Throttled(
        Json<OAuthErrorBody>,
        #[oai(header = "Retry-After")] u64,
        #[oai(header = "Cache-Control")] String,
    ),
}

impl TokenResponse {
    fn refused(error: &str, description: impl Into<String>) -> Self {
        TokenResponse::Refused(
            Json(OAuthErrorBody {
                error: error.to_owned(),
                error_description: description.into(),
            }),
            NO_STORE.to_owned(),
            NO_CACHE.to_owned(),
        )
    }

    /// 503: the store or the hashers cannot serve the login now.
    fn unavailable() -> Self {
        TokenResponse::Unavailable(
            Json(OAuthErrorBody {
                error: "temporarily_unavailable".to_owned(),
                error_description: "try again later".to_owned(),
            }),
            1,
        )
    }

    fn wrong_credentials() -> Self {
        Self::refused("invalid_grant", "wrong username or password")
    }

    fn throttled(throttled: LoginThrottled) -> Self {
        TokenResponse::Throttled(
            Json(OAuthErrorBody {
                error: "temporarily_unavailable".to_owned(),
                error_description: throttled.to_string(),
            }),
            crate::ratelimit::whole_seconds(throttled.retry_after()).max(1),
            NO_STORE.to_owned(),
        )
    }
}

const NO_STORE: &str = "no-store";
const NO_CACHE: &str = "no-cache";

fn malformed_token_request(error: poem::Error) -> TokenResponse {
    tracing::debug!(%error, "malformed token request");
    TokenResponse::refused(
        "invalid_request",
        "send a form (application/x-www-form-urlencoded) with grant_type=password, username and password",
    )
}

/// Longest accepted username, so a lookup never carries an arbitrary blob.
const MAX_USERNAME_BYTES: usize = 256;

#[OpenApi]
impl PasswordGrant {
    /// Log in with a username and password
    ///
    /// The OAuth2 resource owner password credentials grant (RFC 6749 §4.3). The token
    /// carries the requested scopes the user has (all of them when `scope` is absent).
    #[oai(path = "/token", method = "post")]
    async fn token(&self, request: &Request, form: Form<TokenRequest>) -> TokenResponse {
        let form = form.0;
        if form.grant_type != "password" {
            return TokenResponse::refused(
                "unsupported_grant_type",
                "this endpoint supports grant_type=password",
            );
        }
        if form.username.is_empty() || form.username.len() > MAX_USERNAME_BYTES {
            return TokenResponse::refused(
                "invalid_request",
                format!("username must be 1 to {MAX_USERNAME_BYTES} bytes"),
            );
        }
        let requested: Vec<&str> = form
            .scope
            .as_deref()
            .unwrap_or("")
            .split(' ')
            .filter(|s| !s.is_empty())
            .collect();
        if let Some(bad) = requested.iter().find(|s| !is_scope_token(s)) {
            return TokenResponse::refused(
                "invalid_scope",
                format!("`{bad}` is not a valid scope"),
            );
        }

        // Before any password is checked: a throttled client costs no hashing.
        let attempt = match &self.throttle {
            Some(throttle) => match throttle.attempt(request, &form.username).await {
                Ok(attempt) => Some(attempt),
                Err(throttled) => {
                    tracing::info!(username = %form.username, "login throttled");
                    // The form (its password up to the body limit) is not kept
                    // through the tarpit: only the request's task waits.
                    drop(form);
                    let delay = throttle.tarpit_delay();
                    if !delay.is_zero() {
                        tokio::time::sleep(delay).await;
                    }
                    return TokenResponse::throttled(throttled);
                }
            },
            None => None,
        };
        let user = match self.authenticator.users().find_user(&form.username).await {
            Ok(user) => user,
            Err(error) => {
                release(attempt).await;
                tracing::error!(%error, "token endpoint: user store unavailable");
                return TokenResponse::unavailable();
            }
        };
        // An unknown user is checked against a dummy hash, so it costs the same time
        // as a wrong password and the answer cannot tell the two apart.
        let stored = user.as_ref().map(|u| u.password_hash.as_str());
        let check = match self.hasher.verify(&form.password, stored).await {
            Ok(check) => check,
            Err(PasswordError::TooLong { max_bytes }) => {
                return TokenResponse::refused(
                    "invalid_request",
                    format!("passwords are at most {max_bytes} bytes"),
                );
            }
            Err(PasswordError::Empty) => {
                return TokenResponse::refused("invalid_request", "password is required");
            }
            // Saturated: the password was not checked, so this is no failed attempt.
            Err(error @ PasswordError::Busy { .. }) => {
                release(attempt).await;
                tracing::warn!(%error, username = %form.username, "login not checked");
                return TokenResponse::unavailable();
            }
            Err(error) => {
                tracing::error!(%error, username = %form.username, "password verification failed");
                return TokenResponse::wrong_credentials();
            }
        };
        let user = match user {
            Some(user) if check.matches && !user.disabled => {
                release(attempt).await;
                user
            }
            Some(user) if check.matches => {
                tracing::info!(username = %user.username, "login refused: user disabled");
                return TokenResponse::wrong_credentials();
            }
            _ => {
                tracing::info!(username = %form.username, "login refused: wrong username or password");
                return TokenResponse::wrong_credentials();
            }
        };
        if check.needs_rehash {
            self.upgrade_hash(&user.username, &form.password).await;
        }

        let granted: Vec<&str> = match requested.is_empty() {
            true => user.scopes.iter().map(String::as_str).collect(),
            false => {
                let mut granted = Vec::new();
                for scope in requested {
                    if user.scopes.iter().any(|s| s == scope) && !granted.contains(&scope) {
                        granted.push(scope);
                    }
                }
                granted
            }
        };
        match self.authenticator.tokens().issue(&user.username, &granted) {
            Ok(issued) => {
                crate::request_log::record_principal(request, &user.username);
                tracing::info!(username = %user.username, scope = %issued.scope, "token issued");
                TokenResponse::Issued(
                    Json(AccessTokenBody {
                        access_token: issued.access_token,
                        token_type: "bearer".to_owned(),
                        expires_in: issued.expires_in,
                        scope: issued.scope,
                    }),
                    NO_STORE.to_owned(),
                    NO_CACHE.to_owned(),
                )
            }
            Err(error) => {
                // Only a stored scope that is not a valid scope token gets here.
                tracing::error!(%error, username = %user.username, "token issuing failed");
                TokenResponse::refused("invalid_scope", "the user's scopes cannot be issued")
            }
        }
    }
}

impl PasswordGrant {
    /// Rehashes with the current parameters after a successful login; a failure is
    /// logged and the login still succeeds, since the old hash still verifies.
    async fn upgrade_hash(&self, username: &str, password: &str) {
        let result = match self.hasher.hash(password).await {
            Ok(phc) => self
                .authenticator
                .users()
                .set_password_hash(username, &phc)
                .await
                .map_err(|e| e.to_string()),
            Err(error) => Err(error.to_string()),
        };
        match result {
            Ok(()) => tracing::info!(%username, "password hash upgraded to current parameters"),
            Err(error) => tracing::warn!(%username, %error, "password hash upgrade failed"),
        }
    }
}

/// A login that does not count as a failure.
async fn release(attempt: Option<LoginAttempt>) {
    if let Some(attempt) = attempt {
        attempt.release().await;
    }
}

/// RFC 6749 §3.3 `scope-token`.
fn is_scope_token(scope: &str) -> bool {
    !scope.is_empty()
        && scope
            .bytes()
            .all(|b| matches!(b, 0x21 | 0x23..=0x5B | 0x5D..=0x7E))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        password::PasswordHasher,
        ratelimit::{DEFAULT_TARPIT, Limiter},
        token::{SigningKey, TokenService},
        users::InMemoryUserStore,
    };
    use poem::{Endpoint, Route, http::StatusCode};
    use poem_openapi::OpenApiService;
    use std::time::Duration;
    use tokio::time::Instant;

    /// A token endpoint whose throttle has already refused `username`'s client: the
    /// next login of that pair is refused without a password being checked.
    async fn throttled_endpoint(tarpit: Option<Duration>, username: &str) -> impl Endpoint {
        let tokens = TokenService::builder()
            .issuer("i")
            .audience("a")
            .signing_key(SigningKey::hs256("k", &[1u8; 32]).unwrap())
            .build()
            .unwrap();
        let auth = Authenticator::new(tokens, InMemoryUserStore::new());
        let mut throttle = LoginThrottle::new(Limiter::in_memory(), "1/15m".parse().unwrap());
        if let Some(tarpit) = tarpit {
            throttle = throttle.tarpit(tarpit);
        }
        // One failure spends the quota (the attempt is dropped: the login failed).
        drop(
            throttle
                .attempt(&Request::default(), username)
                .await
                .unwrap(),
        );
        let grant = PasswordGrant::new(auth, PasswordHasher::new()).throttle(throttle);
        Route::new().nest("/", OpenApiService::new(grant, "t", "1"))
    }

    fn login(username: &str) -> Request {
        Request::builder()
            .method(poem::http::Method::POST)
            .uri(poem::http::Uri::from_static("/token"))
            .content_type("application/x-www-form-urlencoded")
            .body(format!(
                "grant_type=password&username={username}&password=x"
            ))
    }

    /// The clock is paused: a sleep advances it by exactly its length, so the time
    /// an answer took is the tarpit and nothing else.
    #[tokio::test(start_paused = true)]
    async fn a_throttled_login_waits_the_tarpit_and_zero_turns_it_off() {
        for (tarpit, expected) in [
            (None, DEFAULT_TARPIT),
            (Some(Duration::from_secs(2)), Duration::from_secs(2)),
            (Some(Duration::ZERO), Duration::ZERO),
        ] {
            let endpoint = throttled_endpoint(tarpit, "nobody-known").await;
            let started = Instant::now();
            let response = endpoint.get_response(login("nobody-known")).await;
            assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
            assert_eq!(started.elapsed(), expected, "tarpit {tarpit:?}");
        }
    }
}
