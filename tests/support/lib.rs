//! Shared test support: a small guarded API served over real HTTP on a free loopback
//! port, its users, and helpers to forge tokens.

pub mod tls;

// poem-openapi derives name `poem_openapi::...`; this makes the name resolve
// without a direct dependency on poem-openapi.
use secure_api::poem_openapi;

pub mod limited_api;
pub mod postgres_server;
pub mod redis_server;
use secure_api::{
    Authenticator,
    oauth2::PasswordGrant,
    password::PasswordHasher,
    poem::{
        EndpointExt, Route, Server,
        listener::{Acceptor, Listener, TcpListener},
    },
    poem_openapi::{Object, OpenApi, OpenApiService, payload::Json},
    prelude::*,
    token::{SigningKey, TokenService, VerificationKey},
    users::{InMemoryUserStore, StoreError, UserDetails, UserRecord, UserStore},
    validation::BodyLimit,
};
use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

pub const ISSUER: &str = "https://auth.test.example";
pub const AUDIENCE: &str = "https://api.test.example";
pub const HS256_SECRET: &[u8] = b"test-only secret: 32+ bytes, never use it";
pub const KID: &str = "test-hs";
pub const RSA_KID: &str = "test-rsa";
pub const RSA_PRIVATE: &[u8] =
    include_bytes!("../../secure-api/src/token/testdata/test_only_rsa2048_private.pem");
pub const RSA_PUBLIC: &[u8] =
    include_bytes!("../../secure-api/src/token/testdata/test_only_rsa2048_public.pem");
pub const EC_PRIVATE: &[u8] =
    include_bytes!("../../secure-api/src/token/testdata/test_only_ec_p256_private.pem");
pub const EC_PUBLIC: &[u8] =
    include_bytes!("../../secure-api/src/token/testdata/test_only_ec_p256_public.pem");
pub const EC_KID: &str = "test-ec";

#[derive(Scopes)]
pub enum Scope {
    #[scope("users:read", "Read user profiles")]
    UsersRead,
    #[scope("users:write", "Create and edit users")]
    UsersWrite,
    #[scope("items:read", "Read items")]
    ItemsRead,
    #[scope("admin", "Everything")]
    Admin,
}

#[derive(Object, Debug)]
pub struct NewUser {
    #[oai(validator(min_length = 3))]
    pub username: String,
}

pub struct TestApi;

#[secure_api(scopes = Scope)]
impl TestApi {
    /// The caller
    #[oai(path = "/me", method = "get")]
    async fn me(&self, who: Principal) -> Json<serde_json::Value> {
        Json(serde_json::json!({
            "subject": who.subject(),
            "scopes": who.scopes().collect::<Vec<_>>(),
            // What the store read with the user, handed over by the guard.
            "details": who.user().and_then(|user| user.details.get::<String>()),
        }))
    }

    /// List users
    #[oai(path = "/users", method = "get")]
    #[requires_scopes("users:read")]
    async fn list(&self) -> Json<Vec<String>> {
        Json(vec!["alice".to_owned(), "john".to_owned()])
    }

    /// Create a user
    #[oai(path = "/users", method = "post")]
    #[requires_scopes("users:write")]
    async fn create(&self, who: Principal, Json(user): Json<NewUser>) -> Json<String> {
        Json(format!("{} created {}", who.subject(), user.username))
    }

    /// Either admin, or both users scopes
    #[oai(path = "/either", method = "get")]
    #[requires_scopes(any("admin", all("users:read", "users:write")))]
    async fn either(&self, who: Principal) -> Json<String> {
        Json(who.subject().to_owned())
    }

    /// Nothing required
    #[oai(path = "/open", method = "get")]
    async fn open(&self) -> Json<&'static str> {
        Json("open")
    }
}

/// Weak argon2 parameters keep tests fast; the defaults are tested in `password`.
pub fn test_hasher() -> PasswordHasher {
    PasswordHasher::builder()
        .memory_kib(64)
        .iterations(1)
        .parallelism(1)
        .allow_weak_parameters_for_tests()
        .build()
        .expect("test hasher")
}

pub fn token_service() -> TokenService {
    TokenService::builder()
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .signing_key(SigningKey::hs256(KID, HS256_SECRET).expect("test secret"))
        .verification_key(VerificationKey::rs256_pem(RSA_KID, RSA_PUBLIC).expect("rsa key"))
        .verification_key(VerificationKey::es256_pem(EC_KID, EC_PUBLIC).expect("ec key"))
        .build()
        .expect("token service")
}

/// `alice` (users:read users:write items:read), `john` (users:read items:read),
/// `dora` (disabled, users:read).
pub fn test_users(hasher: &PasswordHasher) -> InMemoryUserStore {
    let store = InMemoryUserStore::new();
    for (name, password, scopes, disabled) in [
        (
            "alice",
            "password",
            &["users:read", "users:write", "items:read"][..],
            false,
        ),
        ("john", "secret", &["users:read", "items:read"][..], false),
        ("dora", "explorer", &["users:read"][..], true),
    ] {
        store
            .insert(UserRecord {
                username: name.to_owned(),
                password_hash: hasher.hash_blocking(password).expect("hash"),
                scopes: scopes.iter().map(|s| s.to_string()).collect(),
                disabled,
                details: UserDetails::new(format!("{name}'s details")),
            })
            .expect("unique");
    }
    store
}

/// An [`InMemoryUserStore`] that counts lookups, to prove the guard looks a token's
/// subject up exactly once per request.
#[derive(Clone)]
pub struct CountingStore {
    pub inner: InMemoryUserStore,
    pub lookups: Arc<AtomicUsize>,
}

impl UserStore for CountingStore {
    async fn find_user(&self, username: &str) -> Result<Option<UserRecord>, StoreError> {
        self.lookups.fetch_add(1, Ordering::SeqCst);
        UserStore::find_user(&self.inner, username).await
    }

    async fn set_password_hash(&self, username: &str, phc: &str) -> Result<(), StoreError> {
        UserStore::set_password_hash(&self.inner, username, phc).await
    }
}

/// A running test service.
pub struct TestServer {
    pub base: String,
    pub users: InMemoryUserStore,
    pub lookups: Arc<AtomicUsize>,
    pub tokens: TokenService,
    pub client: reqwest::Client,
}

impl TestServer {
    /// User-store lookups since the server started.
    pub fn lookups(&self) -> usize {
        self.lookups.load(Ordering::SeqCst)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A token for `subject` with exactly `scopes`, issued by the service's own keys.
    pub fn token(&self, subject: &str, scopes: &[&str]) -> String {
        self.tokens
            .issue(subject, scopes)
            .expect("issue")
            .access_token
    }
}

/// Serves [`TestApi`] and the token endpoint on a free loopback port.
pub async fn serve() -> TestServer {
    serve_api(TestApi, None).await
}

/// Serves `api`, the token endpoint and `/openapi.json` on a free loopback port,
/// with a body limit when given.
pub async fn serve_api<T: OpenApi + 'static>(api: T, limit: Option<BodyLimit>) -> TestServer {
    serve_api_hashing_with(api, limit, test_hasher()).await
}

/// Serves [`TestApi`] and the token endpoint, whose logins use `hasher`.
pub async fn serve_hashing_with(hasher: PasswordHasher) -> TestServer {
    serve_api_hashing_with(TestApi, None, hasher).await
}

async fn serve_api_hashing_with<T: OpenApi + 'static>(
    api: T,
    limit: Option<BodyLimit>,
    hasher: PasswordHasher,
) -> TestServer {
    let users = test_users(&hasher);
    let tokens = token_service();
    let lookups = Arc::new(AtomicUsize::new(0));
    let counting = CountingStore {
        inner: users.clone(),
        lookups: lookups.clone(),
    };
    let auth = Authenticator::new(tokens.clone(), counting);
    let service = OpenApiService::new(
        (api, PasswordGrant::new(auth.clone(), hasher)),
        "test",
        "1.0",
    );
    let spec = service.spec_endpoint();
    let app = Route::new()
        .nest("/", service)
        .at("/openapi.json", spec)
        .data(auth);
    let base = match limit {
        Some(limit) => serve_endpoint(app.data(limit)).await,
        None => serve_endpoint(app).await,
    };
    TestServer {
        base,
        users,
        lookups,
        tokens,
        client: reqwest::Client::new(),
    }
}

/// base64url without padding, as JWTs use it.
pub fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

/// Claims a valid token for `sub` would carry; tests change one thing at a time.
pub fn valid_claims(sub: &str, scope: &str) -> serde_json::Value {
    let now = now();
    serde_json::json!({
        "sub": sub, "iss": ISSUER, "aud": AUDIENCE, "scope": scope,
        "iat": now, "nbf": now, "exp": now + 600, "jti": "test-jti",
    })
}

/// Signs `claims` with `header` using the service's HS256 secret (or any secret).
pub fn sign_hs256(header: &serde_json::Value, claims: &serde_json::Value, secret: &[u8]) -> String {
    use jsonwebtoken::crypto::sign;
    let signing_input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let key = jsonwebtoken::EncodingKey::from_secret(secret);
    let signature = sign(
        signing_input.as_bytes(),
        &key,
        jsonwebtoken::Algorithm::HS256,
    )
    .expect("sign");
    format!("{signing_input}.{signature}")
}

/// Signs `claims` with `header` (its `alg` set by the caller) using a PEM key.
pub fn sign_pem(
    header: &serde_json::Value,
    claims: &serde_json::Value,
    alg: jsonwebtoken::Algorithm,
    pem: &[u8],
) -> String {
    use jsonwebtoken::crypto::sign;
    let signing_input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let key = match alg {
        jsonwebtoken::Algorithm::RS256 => jsonwebtoken::EncodingKey::from_rsa_pem(pem),
        jsonwebtoken::Algorithm::ES256 => jsonwebtoken::EncodingKey::from_ec_pem(pem),
        other => panic!("unsupported in tests: {other:?}"),
    }
    .expect("pem");
    let signature = sign(signing_input.as_bytes(), &key, alg).expect("sign");
    format!("{signing_input}.{signature}")
}

/// The standard header of our tokens.
pub fn hs_header() -> serde_json::Value {
    serde_json::json!({"alg": "HS256", "typ": "at+jwt", "kid": KID})
}

/// Serves any endpoint on a free loopback port; returns `http://127.0.0.1:<port>`.
pub async fn serve_endpoint<E>(app: E) -> String
where
    E: secure_api::poem::IntoEndpoint + Send + 'static,
    E::Endpoint: 'static,
{
    let acceptor = TcpListener::bind("127.0.0.1:0")
        .into_acceptor()
        .await
        .expect("bind a loopback port");
    let addr = acceptor.local_addr()[0]
        .as_socket_addr()
        .copied()
        .expect("a TCP address");
    tokio::spawn(Server::new_with_acceptor(acceptor).run(app));
    format!("http://{addr}")
}

/// Sends `request` (a whole HTTP/1.1 request, as written) over a fresh connection to
/// `base` and returns the raw answer: for requests a client library will not send.
pub async fn raw_http(base: &str, request: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream
        .write_all(request.as_bytes())
        .await
        .expect("write the request");
    let mut answer = Vec::new();
    stream
        .read_to_end(&mut answer)
        .await
        .expect("read the answer");
    String::from_utf8_lossy(&answer).into_owned()
}
