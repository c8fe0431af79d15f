//! The flagship service: the seed's whole API as one service, built with secure-api.
//! `main.rs` runs it; the tests start it on a free port through [`start`].

pub mod api;
pub mod config;
mod store;

use api::{PublicApi, UsersApi};
use config::Config;
use secure_api::{
    Authenticator,
    oauth2::PasswordGrant,
    password::PasswordHasher,
    poem::{
        EndpointExt, Route, Server,
        listener::{Acceptor, Listener, TcpListener},
        middleware::{NormalizePath, TrailingSlash},
    },
    poem_openapi::OpenApiService,
    ratelimit::{Limiter, LoginThrottle, MemoryStore, RedisStore},
    token::{SigningKey, TokenService},
    users::UserRecord,
};
use std::{net::SocketAddr, time::Duration};
use store::{Profile, Users};

/// Tokens of every replica must agree on these, so they are constants, not per process.
const ISSUER: &str = "secure-api-flagship";
const AUDIENCE: &str = "secure-api-flagship";

/// A started service.
pub struct Running {
    pub addr: SocketAddr,
    pub server: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// Binds the listener and starts serving; returns once the socket is bound.
pub async fn start(config: Config) -> Result<Running, Box<dyn std::error::Error>> {
    let limiter = limiter(&config).await?;
    let secret = match config.jwt_secret {
        Some(secret) => secret,
        None => {
            tracing::warn!(
                "SECURE_API_JWT_SECRET is not set: tokens are signed with a random secret \
                 made at start, and die with the process"
            );
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
    let users = Users::default();
    if config.demo {
        seed_demo_users(&users, &hasher)?;
        tracing::info!("SECURE_API_DEMO=1: demo users john/secret and alice/password are seeded");
    }
    let auth = Authenticator::new(tokens, users.clone());
    let login_throttle = LoginThrottle::new(limiter.clone(), config.login_limit);

    let api = OpenApiService::new(
        (
            PasswordGrant::new(auth.clone(), hasher.clone()).throttle(login_throttle),
            UsersApi { users, hasher },
            PublicApi,
        ),
        "secure-api flagship",
        env!("CARGO_PKG_VERSION"),
    );
    let docs = api.swagger_ui();
    // poem-openapi's document, with what it cannot write (`additionalProperties: false`).
    let spec = secure_api::openapi::spec_endpoint(&api);
    let app = Route::new()
        .at("/openapi.json", spec)
        .nest("/docs", docs)
        .nest("/", api)
        // poem-openapi routes `/users/me/` as `/users/me`; the seed's paths keep
        // their trailing slash, so both spellings reach the operation.
        .with(NormalizePath::new(TrailingSlash::Trim))
        .data(auth)
        .data(limiter);

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
    Ok(Running { addr, server })
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

fn seed_demo_users(
    users: &Users,
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
            password_hash: hasher.hash_blocking(password)?,
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            disabled: false,
        };
        let profile = Profile {
            email: Some(email.to_owned()),
            full_name: Some(full_name.to_owned()),
        };
        // Seeding twice (a restart against a kept store) is not an error.
        let _ = users.create(record, profile);
    }
    Ok(())
}
