//! Configuration from the environment (`../shared/CONTRACT.md`, "Starting it"). A bad
//! value stops the start with a message that names the variable and the fix.

use secure_api::ratelimit::{Quota, TrustedProxies, parse_overrides};
use std::{fmt, net::SocketAddr, path::PathBuf, time::Duration};

pub struct Config {
    pub addr: SocketAddr,
    /// The mutual-TLS listener's PEM files, when all three are set.
    pub tls: Option<TlsFiles>,
    /// Where the mutual-TLS listener listens.
    pub mtls_addr: SocketAddr,
    /// `None`: a random secret, made at start.
    pub jwt_secret: Option<Vec<u8>>,
    pub demo: bool,
    /// `Some`: every rate limit, login throttling included, lives in this Redis.
    pub redis_url: Option<String>,
    /// Failed logins allowed per client IP and username.
    pub login_limit: Quota,
    pub trusted_proxies: TrustedProxies,
    /// Limits overridden at start (`SECURE_API_RATE_LIMITS`), by name.
    pub rate_limit_overrides: Vec<(String, Quota)>,
    /// Where users and API keys live: `sqlite:PATH` or `postgres://...`; `None`: an
    /// SQLite database in memory.
    pub database_url: Option<String>,
}

/// The names `SECURE_API_RATE_LIMITS` can override: the limits of the API and the
/// login throttle.
pub const LIMIT_NAMES: [&str; 4] = ["public", "sensitive", "user-specific", "login"];

#[derive(Debug)]
pub struct ConfigError {
    variable: &'static str,
    problem: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.variable, self.problem)
    }
}

impl std::error::Error for ConfigError {}

/// `SECURE_API_TLS_CERT`, `SECURE_API_TLS_KEY`, `SECURE_API_TLS_CLIENT_CA`.
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub client_ca: PathBuf,
}

const TLS_VARIABLES: [&str; 3] = [
    "SECURE_API_TLS_CERT",
    "SECURE_API_TLS_KEY",
    "SECURE_API_TLS_CLIENT_CA",
];

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let addr = address(&var, "SECURE_API_ADDR", 3000)?;
        let jwt_secret = var("SECURE_API_JWT_SECRET")
            .map(|value| decode_secret(&value))
            .transpose()?;
        let demo = match var("SECURE_API_DEMO").as_deref() {
            None | Some("1") | Some("true") => true,
            Some("0") | Some("false") => false,
            Some(other) => {
                return Err(ConfigError {
                    variable: "SECURE_API_DEMO",
                    problem: format!("`{other}` is neither 1 nor 0"),
                });
            }
        };
        let redis_url = var("SECURE_API_REDIS_URL").filter(|url| !url.trim().is_empty());
        let login_limit = match var("SECURE_API_LOGIN_LIMIT") {
            None => Quota::per(5, Duration::from_secs(15 * 60)),
            Some(value) => value.parse().map_err(|error| ConfigError {
                variable: "SECURE_API_LOGIN_LIMIT",
                problem: format!("{error}"),
            })?,
        };
        let trusted_proxies = match var("SECURE_API_TRUSTED_PROXIES") {
            None => TrustedProxies::none(),
            Some(value) => TrustedProxies::parse(&value).map_err(|problem| ConfigError {
                variable: "SECURE_API_TRUSTED_PROXIES",
                problem: format!("{problem}; write IPs or CIDR networks, comma-separated"),
            })?,
        };
        let rate_limit_overrides = match var("SECURE_API_RATE_LIMITS") {
            None => Vec::new(),
            Some(value) => {
                let overrides = parse_overrides(&value).map_err(|problem| ConfigError {
                    variable: "SECURE_API_RATE_LIMITS",
                    problem,
                })?;
                if let Some((name, _)) = overrides
                    .iter()
                    .find(|(name, _)| !LIMIT_NAMES.contains(&name.as_str()))
                {
                    return Err(ConfigError {
                        variable: "SECURE_API_RATE_LIMITS",
                        problem: format!(
                            "there is no limit named `{name}`; the limits are {}",
                            LIMIT_NAMES.join(", ")
                        ),
                    });
                }
                overrides
            }
        };
        let tls = match TLS_VARIABLES.map(|name| var(name).filter(|v| !v.is_empty())) {
            [Some(cert), Some(key), Some(client_ca)] => Some(TlsFiles {
                cert: cert.into(),
                key: key.into(),
                client_ca: client_ca.into(),
            }),
            [None, None, None] => None,
            partial => {
                // Half a TLS configuration is a mistake, not a wish for no mTLS.
                let missing = TLS_VARIABLES
                    .iter()
                    .zip(&partial)
                    .find(|(_, value)| value.is_none())
                    .map(|(name, _)| *name)
                    .unwrap_or("SECURE_API_TLS_CERT");
                return Err(ConfigError {
                    variable: missing,
                    problem: "is not set, but other SECURE_API_TLS_* variables are; the \
                              mTLS listener needs all three (certificate, key, client CA) \
                              or none"
                        .to_owned(),
                });
            }
        };
        let mtls_addr = address(&var, "SECURE_API_MTLS_ADDR", 8443)?;
        let database_url = var("SECURE_API_DATABASE_URL")
            .filter(|url| !url.trim().is_empty())
            .map(|url| database_url(url.trim()))
            .transpose()?;
        Ok(Config {
            addr,
            tls,
            mtls_addr,
            jwt_secret,
            demo,
            redis_url,
            login_limit,
            trusted_proxies,
            rate_limit_overrides,
            database_url,
        })
    }
}

/// `IP:PORT` from `variable`, or 127.0.0.1 on `default_port`.
fn address(
    var: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
    default_port: u16,
) -> Result<SocketAddr, ConfigError> {
    match var(variable) {
        None => Ok(SocketAddr::from(([127, 0, 0, 1], default_port))),
        Some(value) => value.parse().map_err(|_| ConfigError {
            variable,
            problem: format!(
                "`{value}` is not an address; write it as IP:PORT, e.g. 127.0.0.1:{default_port}"
            ),
        }),
    }
}

/// A URL of a backend the service speaks. Only the scheme is checked here (the rest
/// when connecting); the URL itself is never echoed, it may carry a password.
fn database_url(url: &str) -> Result<String, ConfigError> {
    const SCHEMES: [&str; 3] = ["sqlite:", "postgres://", "postgresql://"];
    if SCHEMES.iter().any(|scheme| url.starts_with(scheme)) {
        return Ok(url.to_owned());
    }
    Err(ConfigError {
        variable: "SECURE_API_DATABASE_URL",
        problem: "is neither an SQLite nor a PostgreSQL URL; write `sqlite:PATH` (a file, \
                  created if missing) or `postgres://USER:PASSWORD@HOST:PORT/DATABASE`"
            .to_owned(),
    })
}

/// Hex or base64 (standard or URL-safe, padded or not), at least 32 bytes.
fn decode_secret(value: &str) -> Result<Vec<u8>, ConfigError> {
    use base64::{Engine, engine::general_purpose};
    let value = value.trim();
    let is_hex = value.len().is_multiple_of(2) && value.bytes().all(|b| b.is_ascii_hexdigit());
    let decoded = if is_hex {
        (0..value.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&value[i..i + 2], 16))
            .collect::<Result<Vec<u8>, _>>()
            .ok()
    } else {
        let unpadded = value.trim_end_matches('=');
        general_purpose::STANDARD_NO_PAD
            .decode(unpadded)
            .or_else(|_| general_purpose::URL_SAFE_NO_PAD.decode(unpadded))
            .ok()
    };
    let Some(secret) = decoded else {
        return Err(ConfigError {
            variable: "SECURE_API_JWT_SECRET",
            problem: "is neither hex nor base64; generate one with `openssl rand -hex 32`"
                .to_owned(),
        });
    };
    if secret.len() < 32 {
        return Err(ConfigError {
            variable: "SECURE_API_JWT_SECRET",
            problem: format!(
                "decodes to {} bytes, but HS256 needs at least 32 random bytes; generate one \
                 with `openssl rand -hex 32`",
                secret.len()
            ),
        });
    }
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::from_lookup(|name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn defaults_need_no_configuration() {
        let config = config(&[]).unwrap();
        assert_eq!(config.addr.to_string(), "127.0.0.1:3000");
        assert!(config.jwt_secret.is_none());
        assert!(config.demo);
        assert!(config.tls.is_none());
        assert_eq!(config.mtls_addr.to_string(), "127.0.0.1:8443");
    }

    #[test]
    fn the_database_is_in_memory_unless_a_url_is_set() {
        assert!(config(&[]).unwrap().database_url.is_none());
        for url in ["sqlite:users.db", "postgres://app@127.0.0.1:5432/app"] {
            let set = config(&[("SECURE_API_DATABASE_URL", url)]).unwrap();
            assert_eq!(set.database_url.as_deref(), Some(url));
        }
    }

    #[test]
    fn tls_needs_all_three_files() {
        let all = config(&[
            ("SECURE_API_TLS_CERT", "server.crt"),
            ("SECURE_API_TLS_KEY", "server.key"),
            ("SECURE_API_TLS_CLIENT_CA", "ca.crt"),
            ("SECURE_API_MTLS_ADDR", "127.0.0.1:9443"),
        ])
        .unwrap();
        let tls = all.tls.unwrap();
        assert_eq!(tls.client_ca.to_str(), Some("ca.crt"));
        assert_eq!(all.mtls_addr.port(), 9443);

        let partial = config(&[
            ("SECURE_API_TLS_CERT", "server.crt"),
            ("SECURE_API_TLS_CLIENT_CA", "ca.crt"),
        ])
        .err()
        .unwrap()
        .to_string();
        assert!(
            partial.starts_with("SECURE_API_TLS_KEY: is not set"),
            "{partial}"
        );
        let error = config(&[("SECURE_API_MTLS_ADDR", "8443")]).err().unwrap();
        assert!(error.to_string().starts_with("SECURE_API_MTLS_ADDR:"));
    }

    #[test]
    fn secrets_are_hex_or_base64_of_at_least_32_bytes() {
        let hex = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
        assert_eq!(
            config(&[("SECURE_API_JWT_SECRET", hex)])
                .unwrap()
                .jwt_secret
                .unwrap()
                .len(),
            32
        );
        let b64 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIj";
        assert_eq!(
            config(&[("SECURE_API_JWT_SECRET", b64)])
                .unwrap()
                .jwt_secret
                .unwrap()
                .len(),
            36
        );

        let short = config(&[("SECURE_API_JWT_SECRET", "00112233445566778899aabbccddeeff")])
            .err()
            .unwrap();
        assert_eq!(
            short.to_string(),
            "SECURE_API_JWT_SECRET: decodes to 16 bytes, but HS256 needs at least 32 random bytes; \
             generate one with `openssl rand -hex 32`"
        );
        let junk = config(&[("SECURE_API_JWT_SECRET", "not a secret!")])
            .err()
            .unwrap();
        assert!(
            junk.to_string()
                .starts_with("SECURE_API_JWT_SECRET: is neither hex nor base64")
        );
    }

    #[test]
    fn rate_limit_settings() {
        let defaults = config(&[]).unwrap();
        assert_eq!(
            defaults.login_limit,
            Quota::per(5, Duration::from_secs(900))
        );
        assert!(defaults.redis_url.is_none() && defaults.trusted_proxies.is_empty());
        let set = config(&[
            ("SECURE_API_REDIS_URL", "redis://127.0.0.1:6379/"),
            ("SECURE_API_LOGIN_LIMIT", "20/1h"),
            ("SECURE_API_TRUSTED_PROXIES", "10.0.0.0/8, ::1"),
            ("SECURE_API_RATE_LIMITS", "public=1000/60s"),
        ])
        .unwrap();
        assert_eq!(set.redis_url.as_deref(), Some("redis://127.0.0.1:6379/"));
        assert_eq!(set.login_limit, Quota::per(20, Duration::from_secs(3600)));
        assert!(set.trusted_proxies.is_trusted("10.1.1.1".parse().unwrap()));
        assert_eq!(set.rate_limit_overrides.len(), 1);
        for (variable, value, starts) in [
            (
                "SECURE_API_LOGIN_LIMIT",
                "5 per 15m",
                "SECURE_API_LOGIN_LIMIT: `5 per 15m` is not a quota",
            ),
            (
                "SECURE_API_TRUSTED_PROXIES",
                "10.0.0.0/8, proxy",
                "SECURE_API_TRUSTED_PROXIES: `proxy` is not an IP",
            ),
            (
                "SECURE_API_RATE_LIMITS",
                "publik=1/1s",
                "SECURE_API_RATE_LIMITS: there is no limit named `publik`; the limits are public, sensitive, user-specific, login",
            ),
        ] {
            let error = config(&[(variable, value)]).err().unwrap().to_string();
            assert!(error.starts_with(starts), "{error}");
        }
    }

    #[test]
    fn bad_values_name_their_variable() {
        let error = config(&[("SECURE_API_ADDR", "localhost")]).err().unwrap();
        assert!(
            error
                .to_string()
                .starts_with("SECURE_API_ADDR: `localhost` is not an address")
        );
        let error = config(&[("SECURE_API_DEMO", "yes")]).err().unwrap();
        assert!(error.to_string().starts_with("SECURE_API_DEMO:"));
        let error = config(&[("SECURE_API_DATABASE_URL", "mysql://root:hunter2@db/users")])
            .err()
            .unwrap()
            .to_string();
        assert!(
            error.starts_with("SECURE_API_DATABASE_URL: is neither an SQLite nor a PostgreSQL URL"),
            "{error}"
        );
        assert!(
            !error.contains("hunter2"),
            "the URL may hold a password: {error}"
        );
    }
}
