//! The flagship service: the seed's whole API as one service, built with secure-api.
//! `main.rs` runs it; the tests start it on a free port through [`start`].

pub mod api;
pub mod config;
mod store;

use api::{PublicApi, UsersApi};
use config::Config;
use secure_api::{
    App, Authenticator,
    apikey::{ApiKeyHasher, ApiKeyRecord, ApiKeys},
    cors::CorsPolicy,
    headers::SecurityHeaders,
    hosts::TrustedHosts,
    mtls::{MtlsConfig, MtlsListener},
    normalize_path::{NormalizePath, TrailingSlash},
    oauth2::PasswordGrant,
    password::PasswordHasher,
    poem::{
        EndpointExt, Route, Server,
        listener::{Acceptor, Listener, TcpListener},
    },
    poem_openapi::OpenApiService,
    ratelimit::{Limiter, LoginThrottle, MemoryStore, RedisStore},
    token::{SigningKey, TokenService},
    users::UserRecord,
};
use std::{net::SocketAddr, sync::Arc, time::Duration};
use store::{Database, Profile};

/// Tokens of every replica must agree on these, so they are constants, not per process.
const ISSUER: &str = "secure-api-flagship";
const AUDIENCE: &str = "secure-api-flagship";

/// The hosts the service answers to (`../shared/CONTRACT.md`).
const ALLOWED_HOSTS: [&str; 4] = ["localhost", "127.0.0.1", "api.example.com", "*.example.com"];
/// The one origin whose pages may call the service.
const FRONTEND_ORIGIN: &str = "https://frontend.example.com";

/// The seed's API keys: (key, owner, scope). Only their digests are kept.
const DEMO_API_KEYS: [(&str, &str, &str); 2] = [
    ("valid_api_key_1", "service1", "read"),
    ("valid_api_key_2", "service2", "read:write"),
];

/// A started service.
pub struct Running {
    pub addr: SocketAddr,
    pub server: tokio::task::JoinHandle<std::io::Result<()>>,
    /// The mutual-TLS listener, when configured: its address and task.
    pub mtls: Option<(SocketAddr, tokio::task::JoinHandle<std::io::Result<()>>)>,
}

/// Binds the listener and starts serving; returns once the socket is bound.
pub async fn start(config: Config) -> Result<Running, Box<dyn std::error::Error>> {
    let limiter = limiter(&config).await?;
    // Certificate problems stop the start before anything listens.
    let mtls_config = match &config.tls {
        Some(files) => Some(
            MtlsConfig::from_pem_files(&files.cert, &files.key, &files.client_ca)
                .map_err(|error| format!("SECURE_API_TLS_*: {error}"))?,
        ),
        None => None,
    };
    let secret = match config.jwt_secret {
        Some(secret) => secret,
        None => {
            tracing::warn!(
                "SECURE_API_JWT_SECRET is not set: tokens are signed with a random secret \
                 made at start, and die with the process"
            );
            if config.database_url.is_some() {
                tracing::warn!(
                    "SECURE_API_DATABASE_URL is set but SECURE_API_JWT_SECRET is not: API-key \
                     digests stored now will not match after a restart, and replicas cannot \
                     verify each other's tokens; set one secret for every replica"
                );
            }
            let mut secret = vec![0u8; 32];
            getrandom::getrandom(&mut secret)?;
            secret
        }
    };
    let tokens = TokenService::builder()
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .ttl(Duration::from_secs(30 * 60))
        .signing_key(SigningKey::hs256("main", &secret)?)
        .build()?;
    let hasher = PasswordHasher::new();
    let db = database(config.database_url.as_deref()).await?;
    if config.demo {
        seed_demo_users(&db, &hasher).await?;
        tracing::info!("SECURE_API_DEMO=1: demo users john/secret and alice/password are seeded");
    }
    let auth = Authenticator::new(tokens, db.clone());
    let login_throttle = LoginThrottle::new(limiter.clone(), config.login_limit);
    // Keys are stored as HMAC-SHA256 digests under a key derived from the token
    // secret: replicas configured alike store and find the same digests.
    let key_hasher = ApiKeyHasher::derived_from(&secret)?;
    if config.demo {
        for (key, owner, scope) in DEMO_API_KEYS {
            db.seed_api_key(&ApiKeyRecord::new(key_hasher.digest(key), owner, [scope]))
                .await?;
        }
        tracing::info!(
            "SECURE_API_DEMO=1: demo API keys valid_api_key_1 and valid_api_key_2 are seeded"
        );
    }
    let api_keys = ApiKeys::new(key_hasher, db.clone());

    let api = OpenApiService::new(
        (
            PasswordGrant::new(auth.clone(), hasher.clone()).throttle(login_throttle),
            UsersApi { db, hasher },
            PublicApi,
        ),
        "secure-api flagship",
        env!("CARGO_PKG_VERSION"),
    );
    // Swagger UI on the same document, its script hashes computed once.
    let docs = secure_api::openapi::swagger_ui(&api);
    // poem-openapi's document, with what it cannot write (`additionalProperties: false`).
    let spec = secure_api::openapi::spec_endpoint(&api);
    let routes = Route::new()
        .at("/openapi.json", spec)
        .nest("/docs", docs)
        .nest("/", api)
        // poem-openapi routes `/users/me/` as `/users/me`; the seed's paths keep
        // their trailing slash, so both spellings reach the operation.
        .with(NormalizePath::new(TrailingSlash::Trim));
    let app = App::new(routes)
        .trusted_hosts(TrustedHosts::new(ALLOWED_HOSTS)?)
        .cors(CorsPolicy::new([FRONTEND_ORIGIN])?)
        .security_headers(SecurityHeaders::builder().swagger_ui("/docs").build()?)
        .data(auth)
        .data(api_keys)
        .data(limiter);

    // One service on both listeners; mTLS-only operations refuse the plain one.
    let app = Arc::new(app);
    let mtls = match mtls_config {
        Some(mtls_config) => {
            let listener = MtlsListener::bind(config.mtls_addr, &mtls_config).await?;
            let addr = listener.local_addr()?;
            let task = tokio::spawn(listener.run_with_graceful_shutdown(
                app.clone(),
                shutdown_signal(),
                Some(Duration::from_secs(10)),
            ));
            Some((addr, task))
        }
        None => None,
    };
    let acceptor = TcpListener::bind(config.addr).into_acceptor().await?;
    let addr = acceptor.local_addr()[0]
        .as_socket_addr()
        .copied()
        .ok_or("the listener has no TCP address")?;
    let server = tokio::spawn(
        Server::new_with_acceptor(acceptor).run_with_graceful_shutdown(
            app,
            shutdown_signal(),
            Some(Duration::from_secs(10)),
        ),
    );
    Ok(Running { addr, server, mtls })
}

/// Rate limits in Redis when `SECURE_API_REDIS_URL` is set (shared by every replica;
/// unreachable at start is an error, unreachable later admits requests until it is
/// back), else in memory.
async fn limiter(config: &Config) -> Result<Limiter, Box<dyn std::error::Error>> {
    let builder = match &config.redis_url {
        Some(url) => {
            let store = RedisStore::builder(url).connect().await.map_err(|error| {
                format!("SECURE_API_REDIS_URL: {error}; start Redis, or unset the variable to limit in memory")
            })?;
            tracing::info!("rate limits are kept in Redis, shared by every replica");
            Limiter::builder(store)
        }
        None => Limiter::builder(MemoryStore::new()),
    };
    let mut builder = builder.trusted_proxies(config.trusted_proxies.clone());
    for (name, quota) in &config.rate_limit_overrides {
        tracing::warn!(limit = %name, %quota, "rate limit overridden by SECURE_API_RATE_LIMITS");
        builder = builder.override_limit(name, *quota);
    }
    Ok(builder.build())
}

/// Users and API keys in `SECURE_API_DATABASE_URL`, else in an SQLite database in
/// memory (the default's tokens die with the process; its users die with it too).
async fn database(url: Option<&str>) -> Result<Database, Box<dyn std::error::Error>> {
    let Some(url) = url else {
        return Ok(Database::connect(store::IN_MEMORY).await?);
    };
    // sqlx's errors do not repeat the URL, which may hold a password.
    let db = Database::connect(url)
        .await
        .map_err(|error| format!("SECURE_API_DATABASE_URL: cannot open the database: {error}"))?;
    tracing::info!("users and API keys are kept in the database of SECURE_API_DATABASE_URL");
    Ok(db)
}

/// Ctrl-C or SIGTERM: stop accepting, let in-flight requests finish.
async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => return std::future::pending().await,
            };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    tracing::info!("shutting down: finishing in-flight requests");
}

async fn seed_demo_users(
    db: &Database,
    hasher: &PasswordHasher,
) -> Result<(), Box<dyn std::error::Error>> {
    let demo = [
        (
            "john",
            "secret",
            "John Doe",
            "john@example.com",
            &["users:read", "items:read"][..],
        ),
        (
            "alice",
            "password",
            "Alice Smith",
            "alice@example.com",
            &["users:read", "users:write", "items:read", "items:write"][..],
        ),
    ];
    for (username, password, full_name, email, scopes) in demo {
        let record = UserRecord {
            username: username.to_owned(),
            password_hash: hasher.hash(password).await?,
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            disabled: false,
            details: Default::default(),
        };
        let profile = Profile {
            email: Some(email.to_owned()),
            full_name: Some(full_name.to_owned()),
        };
        // Seeding twice (a restart, or replicas starting together) is not an error;
        // a demo user changed since is left as it is.
        db.seed_user(&record, &profile).await?;
    }
    Ok(())
}
