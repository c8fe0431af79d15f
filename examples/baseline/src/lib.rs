//! The yardstick for the benchmarks (issue 8): the flagship's endpoints written by hand
//! with plain poem + poem-openapi, jsonwebtoken and governor, and no secure-api, the way
//! a careful engineer would: one `Validation` built at start, the same checks as the
//! framework (size, `typ`, `crit`, `iss`, `aud`, `nbf`, subject still known), argon2id
//! off the async workers, no needless allocation; users and API-key digests in the
//! flagship's kind of database (`store.rs`), one query where one suffices; and the
//! flagship's service-wide protections (trusted hosts, CORS, security headers) by hand
//! in `protect.rs`. Keep it honest: never slow it down to flatter the framework.

use argon2::{
    Argon2, PasswordHash, PasswordHasher as _, PasswordVerifier as _, password_hash::SaltString,
};
use governor::{
    Quota, RateLimiter,
    clock::{Clock, DefaultClock},
    middleware::StateInformationMiddleware,
    state::keyed::DefaultKeyedStateStore,
};
use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use poem::{
    EndpointExt, Request, Response, Route, Server,
    http::{HeaderMap, StatusCode, header},
    listener::{Acceptor, Listener, TcpListener},
    middleware::{NormalizePath, TrailingSlash},
    web::Data,
};
use poem_openapi::{ApiResponse, Object, OpenApi, OpenApiService, payload::Form, payload::Json};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::{
    net::{IpAddr, SocketAddr},
    num::NonZeroU32,
    sync::Arc,
    time::{SystemTime, UNIX_EPOCH},
};
use store::{Store, UserRow};

pub mod protect;
mod store;

/// The flagship's issuer and audience, and below its key id: the same token bytes to
/// verify, so the signature check hashes as much as the flagship's does.
const ISSUER: &str = "secure-api-flagship";
const MAX_TOKEN_BYTES: usize = 8192;

/// A keyed GCRA limiter that also reports what remains, for the `RateLimit` header.
type KeyedLimiter<K> =
    RateLimiter<K, DefaultKeyedStateStore<K>, DefaultClock, StateInformationMiddleware>;

/// A started service.
pub struct Running {
    pub addr: SocketAddr,
    pub server: tokio::task::JoinHandle<std::io::Result<()>>,
}

struct State {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    /// Users and API-key digests, in the flagship's kind of database.
    store: Store,
    dummy_hash: String,
    api_key_mac: Hmac<Sha256>,
    public_limit: KeyedLimiter<IpAddr>,
    sensitive_limit: KeyedLimiter<IpAddr>,
    user_limit: KeyedLimiter<String>,
}

/// The claims of the baseline's tokens (the `hot_paths` bench decodes into them too).
#[derive(Serialize, Deserialize)]
pub struct Claims {
    sub: String,
    iss: String,
    aud: String,
    exp: u64,
    iat: u64,
    nbf: u64,
    jti: String,
    scope: String,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn argon2() -> Argon2<'static> {
    let params = argon2::Params::new(19 * 1024, 2, 1, None).expect("OWASP parameters are valid");
    Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
}

fn hash_password(password: &str) -> String {
    let mut salt = [0u8; 16];
    getrandom::getrandom(&mut salt).expect("OS randomness");
    let salt = SaltString::encode_b64(&salt).expect("16 bytes encode");
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .expect("hash")
        .to_string()
}

fn problem(status: StatusCode, detail: &str) -> Response {
    let body = serde_json::json!({"type": "about:blank", "title": status.canonical_reason(), "status": status.as_u16(), "detail": detail});
    Response::builder()
        .status(status)
        .content_type("application/problem+json")
        .body(body.to_string())
}

fn unauthorized(challenge: &str) -> poem::Error {
    let mut response = problem(StatusCode::UNAUTHORIZED, "invalid or missing bearer token");
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, challenge.parse().expect("static"));
    poem::Error::from_response(response)
}

/// The database did not answer: the flagship's 503.
fn unavailable(_: sqlx::Error) -> poem::Error {
    poem::Error::from_response(problem(
        StatusCode::SERVICE_UNAVAILABLE,
        "the user database is unavailable; retry",
    ))
}

impl State {
    /// The hand-written bearer check: header, size, `typ`, `crit`, signature and claims,
    /// the subject still known and enabled (its row, read once, is returned for the
    /// handler), then the scope.
    async fn authorize(
        &self,
        headers: &HeaderMap,
        scope: Option<&str>,
    ) -> poem::Result<(Claims, UserRow)> {
        let Some(value) = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
        else {
            return Err(unauthorized("Bearer"));
        };
        let Some(token) = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
        else {
            return Err(unauthorized("Bearer"));
        };
        let invalid = || unauthorized("Bearer error=\"invalid_token\"");
        if token.len() > MAX_TOKEN_BYTES {
            return Err(invalid());
        }
        let jwt_header = jsonwebtoken::decode_header(token).map_err(|_| invalid())?;
        if jwt_header.crit.is_some()
            || !jwt_header
                .typ
                .as_deref()
                .is_some_and(|t| t.eq_ignore_ascii_case("at+jwt"))
        {
            return Err(invalid());
        }
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|_| invalid())?
            .claims;
        if claims.iat > now() + 30 {
            return Err(invalid());
        }
        let user = match self.store.user(&claims.sub).await.map_err(unavailable)? {
            Some(user) if !user.disabled => user,
            _ => return Err(invalid()),
        };
        if let Some(scope) = scope
            && !claims.scope.split(' ').any(|s| s == scope)
        {
            let mut response = problem(StatusCode::FORBIDDEN, "insufficient scope");
            let challenge = format!("Bearer error=\"insufficient_scope\", scope=\"{scope}\"");
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                challenge.parse().expect("scope is ASCII"),
            );
            return Err(poem::Error::from_response(response));
        }
        Ok((claims, user))
    }
}

/// Checks one keyed limit and returns its `RateLimit` header value, or the 429.
fn check_limit<K: std::hash::Hash + Eq + Clone>(
    limiter: &KeyedLimiter<K>,
    key: &K,
    name: &str,
    quota: u32,
    window: u64,
) -> poem::Result<(String, String)> {
    let policy = format!("\"{name}\";q={quota};w={window}");
    match limiter.check_key(key) {
        Ok(snapshot) => {
            let remaining = snapshot.remaining_burst_capacity();
            Ok((policy, format!("\"{name}\";r={remaining};t=0")))
        }
        Err(not_until) => {
            let wait = not_until.wait_time_from(limiter.clock().now());
            let retry = wait.as_secs().max(1);
            let mut response = problem(StatusCode::TOO_MANY_REQUESTS, "rate limit exceeded");
            let headers = response.headers_mut();
            headers.insert(header::RETRY_AFTER, retry.into());
            headers.insert("ratelimit-policy", policy.parse().expect("ASCII"));
            headers.insert(
                "ratelimit",
                format!("\"{name}\";r=0;t={retry}").parse().expect("ASCII"),
            );
            Err(poem::Error::from_response(response))
        }
    }
}

fn client_ip(request: &Request) -> IpAddr {
    request
        .remote_addr()
        .as_socket_addr()
        .map(|addr| addr.ip())
        .unwrap_or(IpAddr::from([0, 0, 0, 0]))
}

#[derive(Object)]
struct Message {
    message: String,
}

#[derive(Object)]
struct UserOut {
    username: String,
    email: Option<String>,
    full_name: Option<String>,
    disabled: bool,
    scopes: Vec<String>,
}

#[derive(Deserialize, Object)]
struct TokenForm {
    grant_type: String,
    username: String,
    password: String,
    scope: Option<String>,
}

#[derive(Object)]
struct TokenOut {
    access_token: String,
    token_type: String,
    expires_in: u64,
    scope: String,
}

#[derive(ApiResponse)]
enum TokenResponse {
    #[oai(status = 200)]
    Ok(Json<TokenOut>, #[oai(header = "Cache-Control")] String),
    #[oai(status = 400)]
    Refused(
        Json<serde_json::Value>,
        #[oai(header = "Cache-Control")] String,
    ),
}

#[derive(ApiResponse)]
enum Limited {
    #[oai(status = 200)]
    Ok(
        Json<Message>,
        #[oai(header = "RateLimit-Policy")] String,
        #[oai(header = "RateLimit")] String,
    ),
}

#[derive(ApiResponse)]
enum CreateResponse {
    #[oai(status = 201)]
    Created(Json<UserOut>),
    #[oai(status = 409)]
    Conflict(Json<serde_json::Value>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserCreate {
    username: serde_json::Value,
    email: serde_json::Value,
    password: serde_json::Value,
    #[serde(default)]
    roles: Vec<serde_json::Value>,
}

/// One broken rule, as the flagship's 422 lists it (RFC 9457 `errors` member).
#[derive(Serialize)]
struct FieldError<'a> {
    pointer: std::borrow::Cow<'static, str>,
    code: &'static str,
    detail: &'static str,
    #[serde(skip_serializing_if = "Params::is_none")]
    params: Params,
    /// The offending value, except for passwords (never echoed).
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum Params {
    None,
    Length { max: u32, min: u32 },
    Pattern { pattern: &'static str },
    Requires { requires: &'static str },
    Allowed { allowed: &'static [&'static str] },
}

impl Params {
    fn is_none(&self) -> bool {
        matches!(self, Params::None)
    }
}

const ROLES: &[&str] = &["admin", "user", "moderator"];

/// A password composition rule: the class, its `requires` name, its detail.
type CharClass = (fn(&char) -> bool, &'static str, &'static str);

/// The seed's `UserCreate` rules, every broken one collected, with the flagship's
/// codes, details and parameters (the 422 bodies agree field for field).
fn validate_user(user: &UserCreate) -> Vec<FieldError<'_>> {
    let mut errors = Vec::new();
    let mut fail = |pointer: &'static str, code, detail, params, value| {
        errors.push(FieldError {
            pointer: pointer.into(),
            code,
            detail,
            params,
            value,
        })
    };
    match user.username.as_str() {
        Some(name) => {
            let len = name.chars().count();
            if !(3..=50).contains(&len) {
                let params = Params::Length { max: 50, min: 3 };
                fail(
                    "/username",
                    "length",
                    "must be 3 to 50 characters long",
                    params,
                    Some(name),
                );
            }
            let pattern_ok = !name.is_empty()
                && name
                    .bytes()
                    .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-');
            if !pattern_ok {
                let detail = "must match the pattern ^[a-zA-Z0-9_-]+$";
                let params = Params::Pattern {
                    pattern: "^[a-zA-Z0-9_-]+$",
                };
                fail("/username", "pattern", detail, params, Some(name));
            }
        }
        None => fail("/username", "type", "must be a string", Params::None, None),
    }
    match user.email.as_str() {
        Some(email) => {
            if !validator::ValidateEmail::validate_email(&email) {
                let detail = "must be an e-mail address";
                fail("/email", "email", detail, Params::None, Some(email));
            }
        }
        None => fail("/email", "type", "must be a string", Params::None, None),
    }
    match user.password.as_str() {
        Some(password) => {
            let length = password.chars().count();
            if !(8..=128).contains(&length) {
                let params = Params::Length { max: 128, min: 8 };
                let detail = match length < 8 {
                    true => "must be at least 8 characters long",
                    false => "must be at most 128 characters long",
                };
                fail("/password", "length", detail, params, None);
            }
            let classes: [CharClass; 4] = [
                (
                    char::is_ascii_uppercase,
                    "uppercase",
                    "must contain an upper-case letter (A-Z)",
                ),
                (
                    char::is_ascii_lowercase,
                    "lowercase",
                    "must contain a lower-case letter (a-z)",
                ),
                (char::is_ascii_digit, "digit", "must contain a digit (0-9)"),
                (
                    |c| !c.is_alphanumeric(),
                    "symbol",
                    "must contain a character that is not a letter or a digit",
                ),
            ];
            for (has, requires, detail) in classes {
                if !password.chars().any(|c| has(&c)) {
                    let params = Params::Requires { requires };
                    fail("/password", "composition", detail, params, None);
                }
            }
        }
        None => fail("/password", "type", "must be a string", Params::None, None),
    }
    for (i, role) in user.roles.iter().enumerate() {
        let name = role.as_str();
        if !name.is_some_and(|name| ROLES.contains(&name)) {
            errors.push(FieldError {
                pointer: format!("/roles/{i}").into(),
                code: "one_of",
                detail: "must be one of: admin, user, moderator",
                params: Params::Allowed { allowed: ROLES },
                value: name,
            });
        }
    }
    errors
}

/// The flagship's 422: problem details listing every broken rule.
#[derive(Serialize)]
struct ValidationProblem<'a> {
    r#type: &'static str,
    title: &'static str,
    status: u16,
    detail: String,
    errors: Vec<FieldError<'a>>,
}

fn unprocessable(errors: Vec<FieldError<'_>>) -> Response {
    let detail = match errors.len() {
        1 => "The body breaks 1 rule; it is described in `errors`.".to_owned(),
        n => format!("The body breaks {n} rules; each is listed in `errors`."),
    };
    let problem = ValidationProblem {
        r#type: "about:blank",
        title: "Unprocessable Entity",
        status: 422,
        detail,
        errors,
    };
    Response::builder()
        .status(StatusCode::UNPROCESSABLE_ENTITY)
        .content_type("application/problem+json")
        .body(serde_json::to_vec(&problem).unwrap_or_default())
}

/// `POST /users/`'s body: read and checked, or the 422 answer.
fn read_new_user(body: &[u8]) -> poem::Result<UserCreate> {
    let user: UserCreate = serde_json::from_slice(body).map_err(|_| {
        poem::Error::from_response(problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid body"))
    })?;
    let errors = validate_user(&user);
    if !errors.is_empty() {
        return Err(poem::Error::from_response(unprocessable(errors)));
    }
    Ok(user)
}

/// `POST /users/`'s body check as its handler makes it (read, every rule, the 422
/// answer), for the framework's benchmarks to compare with.
pub fn check_new_user(body: &[u8]) -> poem::Result<()> {
    read_new_user(body).map(drop)
}

struct Api;

fn user_out(user: UserRow) -> UserOut {
    UserOut {
        username: user.username,
        email: user.email,
        full_name: user.full_name,
        disabled: user.disabled,
        scopes: user.scopes.split_whitespace().map(str::to_owned).collect(),
    }
}

#[OpenApi]
impl Api {
    #[oai(path = "/token", method = "post")]
    async fn token(
        &self,
        state: Data<&Arc<State>>,
        form: Form<TokenForm>,
    ) -> poem::Result<TokenResponse> {
        let refused = || {
            TokenResponse::Refused(
                Json(serde_json::json!({"error": "invalid_grant"})),
                "no-store".to_owned(),
            )
        };
        if form.grant_type != "password" || form.password.len() > 1024 {
            return Ok(refused());
        }
        let mut stored = state
            .store
            .user(&form.username)
            .await
            .map_err(unavailable)?;
        let hash = match &mut stored {
            Some(user) => std::mem::take(&mut user.password_hash),
            None => state.dummy_hash.clone(),
        };
        let password = form.password.clone();
        let matches = tokio::task::spawn_blocking(move || {
            PasswordHash::new(&hash).is_ok_and(|parsed| {
                argon2()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
        })
        .await
        .unwrap_or(false);
        let user_scopes: Vec<String> = match stored {
            Some(user) if matches && !user.disabled => {
                user.scopes.split_whitespace().map(str::to_owned).collect()
            }
            _ => return Ok(refused()),
        };
        let requested: Vec<&str> = form
            .scope
            .as_deref()
            .unwrap_or("")
            .split(' ')
            .filter(|s| !s.is_empty())
            .collect();
        let granted: Vec<String> = if requested.is_empty() {
            user_scopes
        } else {
            user_scopes
                .into_iter()
                .filter(|s| requested.contains(&s.as_str()))
                .collect()
        };
        let now = now();
        let mut jti = [0u8; 16];
        let _ = getrandom::getrandom(&mut jti);
        use base64::Engine;
        let claims = Claims {
            sub: form.username.clone(),
            iss: ISSUER.to_owned(),
            aud: ISSUER.to_owned(),
            exp: now + 1800,
            iat: now,
            nbf: now,
            jti: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(jti),
            scope: granted.join(" "),
        };
        let mut header = Header::new(Algorithm::HS256);
        header.typ = Some("at+jwt".to_owned());
        header.kid = Some("main".to_owned());
        let Ok(token) = jsonwebtoken::encode(&header, &claims, &state.encoding) else {
            return Ok(refused());
        };
        Ok(TokenResponse::Ok(
            Json(TokenOut {
                access_token: token,
                token_type: "bearer".to_owned(),
                expires_in: 1800,
                scope: claims.scope,
            }),
            "no-store".to_owned(),
        ))
    }

    #[oai(path = "/users/me/", method = "get")]
    async fn me(&self, state: Data<&Arc<State>>, request: &Request) -> poem::Result<Json<UserOut>> {
        let (_, user) = state.authorize(request.headers(), None).await?;
        Ok(Json(user_out(user)))
    }

    #[oai(path = "/users/", method = "get")]
    async fn list(
        &self,
        state: Data<&Arc<State>>,
        request: &Request,
    ) -> poem::Result<Json<Vec<UserOut>>> {
        state
            .authorize(request.headers(), Some("users:read"))
            .await?;
        let users = state.store.users().await.map_err(unavailable)?;
        Ok(Json(users.into_iter().map(user_out).collect()))
    }

    #[oai(path = "/users/", method = "post")]
    async fn create(
        &self,
        state: Data<&Arc<State>>,
        request: &Request,
        body: poem_openapi::payload::Binary<Vec<u8>>,
    ) -> poem::Result<CreateResponse> {
        state
            .authorize(request.headers(), Some("users:write"))
            .await?;
        let user = read_new_user(&body.0)?;
        let name = user.username.as_str().unwrap_or_default().to_owned();
        let password = user.password.as_str().unwrap_or_default().to_owned();
        let password_hash = tokio::task::spawn_blocking(move || hash_password(&password))
            .await
            .map_err(|_| poem::Error::from_status(StatusCode::SERVICE_UNAVAILABLE))?;
        let new = UserRow {
            username: name,
            password_hash,
            scopes: String::new(),
            disabled: false,
            email: Some(user.email.as_str().unwrap_or_default().to_owned()),
            full_name: None,
        };
        if !state.store.create_user(&new).await.map_err(unavailable)? {
            return Ok(CreateResponse::Conflict(Json(
                serde_json::json!({"status": 409}),
            )));
        }
        Ok(CreateResponse::Created(Json(user_out(new))))
    }

    #[oai(path = "/api/public", method = "get")]
    async fn public(&self, state: Data<&Arc<State>>, request: &Request) -> poem::Result<Limited> {
        let (policy, limit) =
            check_limit(&state.public_limit, &client_ip(request), "public", 100, 60)?;
        Ok(Limited::Ok(
            Json(Message {
                message: "This is a public endpoint".to_owned(),
            }),
            policy,
            limit,
        ))
    }

    #[oai(path = "/api/sensitive", method = "post")]
    async fn sensitive(
        &self,
        state: Data<&Arc<State>>,
        request: &Request,
    ) -> poem::Result<Limited> {
        let (policy, limit) = check_limit(
            &state.sensitive_limit,
            &client_ip(request),
            "sensitive",
            10,
            60,
        )?;
        Ok(Limited::Ok(
            Json(Message {
                message: "Sensitive operation completed".to_owned(),
            }),
            policy,
            limit,
        ))
    }

    #[oai(path = "/api/user-specific", method = "get")]
    async fn user_specific(
        &self,
        state: Data<&Arc<State>>,
        request: &Request,
    ) -> poem::Result<Limited> {
        let key = match state.authorize(request.headers(), None).await {
            Ok((claims, _)) => format!("sub:{}", claims.sub),
            Err(_) => format!("ip:{}", client_ip(request)),
        };
        let (policy, limit) = check_limit(&state.user_limit, &key, "user", 100, 60)?;
        Ok(Limited::Ok(
            Json(Message {
                message: "User-specific endpoint".to_owned(),
            }),
            policy,
            limit,
        ))
    }

    #[oai(path = "/api/data", method = "get")]
    async fn data(&self) -> Json<Message> {
        Json(Message {
            message: "This is public data".to_owned(),
        })
    }

    #[oai(path = "/api/resource", method = "get")]
    async fn resource(
        &self,
        state: Data<&Arc<State>>,
        request: &Request,
    ) -> poem::Result<Json<serde_json::Value>> {
        let headers = request.headers();
        let from_header = headers
            .get("x-api-key")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let from_query = || {
            request.uri().query().and_then(|q| {
                q.split('&')
                    .find_map(|pair| pair.strip_prefix("api-key=").map(str::to_owned))
            })
        };
        let from_cookie = || {
            headers
                .get(header::COOKIE)
                .and_then(|v| v.to_str().ok())
                .and_then(|cookies| {
                    cookies
                        .split(';')
                        .find_map(|c| c.trim().strip_prefix("api-key=").map(str::to_owned))
                })
        };
        let key = from_header.or_else(from_query).or_else(from_cookie);
        let denied = || {
            poem::Error::from_response(problem(
                StatusCode::UNAUTHORIZED,
                "a valid API key is required",
            ))
        };
        let key = key.ok_or_else(denied)?;
        let mut mac = state.api_key_mac.clone();
        mac.update(key.as_bytes());
        let digest: [u8; 32] = mac.finalize().into_bytes().into();
        let (owner, scope) = state
            .store
            .api_key(&digest)
            .await
            .map_err(unavailable)?
            .ok_or_else(denied)?;
        Ok(Json(
            serde_json::json!({"resource": "secure data", "owner": owner, "scope": scope}),
        ))
    }

    #[oai(path = "/api/v1/users", method = "get")]
    async fn users_v1(&self) -> Json<serde_json::Value> {
        Json(serde_json::json!({"version": "1", "users": ["user1", "user2"]}))
    }

    #[oai(path = "/api/v2/users", method = "get")]
    async fn users_v2(&self) -> Json<serde_json::Value> {
        Json(serde_json::json!({"version": "2", "users": [
            {"id": 1, "name": "user1", "role": "admin"},
            {"id": 2, "name": "user2", "role": "user"},
        ]}))
    }
}

fn keyed<K: std::hash::Hash + Eq + Clone>(per_minute: u32) -> KeyedLimiter<K> {
    let count = NonZeroU32::new(per_minute).expect("non-zero");
    RateLimiter::keyed(Quota::per_minute(count)).with_middleware::<StateInformationMiddleware>()
}

/// Binds `addr` and serves; returns once the socket is bound.
pub async fn start(addr: &str) -> Result<Running, Box<dyn std::error::Error>> {
    let mut secret = [0u8; 32];
    getrandom::getrandom(&mut secret)?;
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_issuer(&[ISSUER]);
    validation.set_audience(&[ISSUER]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    validation.validate_nbf = true;
    validation.leeway = 30;
    let mut api_key_secret = [0u8; 32];
    getrandom::getrandom(&mut api_key_secret)?;
    let api_key_mac = Hmac::<Sha256>::new_from_slice(&api_key_secret)?;
    let digest = |key: &str| -> [u8; 32] {
        let mut mac = api_key_mac.clone();
        mac.update(key.as_bytes());
        mac.finalize().into_bytes().into()
    };
    let url =
        std::env::var("BASELINE_DATABASE_URL").unwrap_or_else(|_| store::IN_MEMORY.to_owned());
    let store = Store::connect(&url)
        .await
        .map_err(|error| format!("BASELINE_DATABASE_URL: cannot open the database: {error}"))?;
    store
        .seed_api_key(&digest("valid_api_key_1"), "service1", "read")
        .await?;
    store
        .seed_api_key(&digest("valid_api_key_2"), "service2", "read:write")
        .await?;
    let demo = [
        (
            "john",
            "secret",
            "john@example.com",
            "John Doe",
            "users:read items:read",
        ),
        (
            "alice",
            "password",
            "alice@example.com",
            "Alice Smith",
            "users:read users:write items:read items:write",
        ),
    ];
    for (username, password, email, full_name, scopes) in demo {
        let user = UserRow {
            username: username.to_owned(),
            password_hash: hash_password(password),
            scopes: scopes.to_owned(),
            disabled: false,
            email: Some(email.to_owned()),
            full_name: Some(full_name.to_owned()),
        };
        store.seed_user(&user).await?;
    }
    let state = Arc::new(State {
        encoding: EncodingKey::from_secret(&secret),
        decoding: DecodingKey::from_secret(&secret),
        validation,
        store,
        dummy_hash: hash_password("dummy password for unknown users"),
        api_key_mac,
        // The load run raises it (as the flagship's SECURE_API_RATE_LIMITS does) to
        // measure the admitted path.
        public_limit: keyed(
            std::env::var("BASELINE_PUBLIC_PER_MINUTE")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(100),
        ),
        sensitive_limit: keyed(10),
        user_limit: keyed(100),
    });

    let api = OpenApiService::new(Api, "baseline", "1.0");
    let spec = api.spec_endpoint();
    let app = Route::new()
        .at("/openapi.json", spec)
        .nest("/", api)
        .with(NormalizePath::new(TrailingSlash::Trim))
        .data(state);
    let app = protect::Protected { inner: app };

    let acceptor = TcpListener::bind(addr).into_acceptor().await?;
    let addr = acceptor.local_addr()[0]
        .as_socket_addr()
        .copied()
        .ok_or("no TCP address")?;
    let server = tokio::spawn(Server::new_with_acceptor(acceptor).run(app));
    Ok(Running { addr, server })
}
