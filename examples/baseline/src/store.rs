//! The baseline's users and API-key digests in SQL, as the flagship keeps them (sqlx's
//! `Any` driver, SQLite in memory on one connection unless `BASELINE_DATABASE_URL`
//! says otherwise, the flagship's tables), queried the way one would by hand: one query
//! per question, each row read once, the UNIQUE constraint deciding whether a name is
//! taken.

use sqlx::{
    AnyPool, Row,
    any::{AnyPoolOptions, AnyRow},
};
use std::time::Duration;

/// The URL used when `BASELINE_DATABASE_URL` is not set: the flagship's default.
pub const IN_MEMORY: &str = "sqlite::memory:";

/// The flagship's schema, so both services read the same rows the same way.
const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS users (
        username      TEXT PRIMARY KEY,
        password_hash TEXT NOT NULL,
        scopes        TEXT NOT NULL,
        disabled      BIGINT NOT NULL DEFAULT 0,
        email         TEXT,
        full_name     TEXT
    )",
    "CREATE TABLE IF NOT EXISTS api_keys (
        digest TEXT PRIMARY KEY,
        owner  TEXT NOT NULL,
        scopes TEXT NOT NULL
    )",
];

const USER_BY_NAME: &str =
    "SELECT username, password_hash, scopes, disabled, email, full_name FROM users
     WHERE username = $1";
const USERS_BY_NAME_ORDER: &str =
    "SELECT username, password_hash, scopes, disabled, email, full_name FROM users
     ORDER BY username";

/// One row of `users`.
pub struct UserRow {
    pub username: String,
    pub password_hash: String,
    /// Space-separated, as stored.
    pub scopes: String,
    pub disabled: bool,
    pub email: Option<String>,
    pub full_name: Option<String>,
}

/// A handle on the database; the pool is shared by every request.
pub struct Store {
    pool: AnyPool,
}

impl Store {
    /// Connects with the flagship's pool options and creates the tables if needed.
    pub async fn connect(url: &str) -> Result<Store, sqlx::Error> {
        sqlx::any::install_default_drivers();
        let options = AnyPoolOptions::new().acquire_timeout(Duration::from_secs(2));
        let options = if url.starts_with("sqlite::memory:") {
            // Each connection to `:memory:` is a database of its own: keep exactly one.
            options
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
        } else {
            options
        };
        let store = Store {
            pool: options.connect(url).await?,
        };
        for statement in SCHEMA {
            sqlx::query(statement).execute(&store.pool).await?;
        }
        Ok(store)
    }

    /// Adds a user unless the name exists (seeding at start).
    pub async fn seed_user(&self, user: &UserRow) -> Result<(), sqlx::Error> {
        insert_user(
            "INSERT INTO users (username, password_hash, scopes, disabled, email, full_name)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
            user,
        )
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Adds a user; `Ok(false)` when the UNIQUE constraint refused the name.
    pub async fn create_user(&self, user: &UserRow) -> Result<bool, sqlx::Error> {
        let inserted = insert_user(
            "INSERT INTO users (username, password_hash, scopes, disabled, email, full_name)
             VALUES ($1, $2, $3, $4, $5, $6)",
            user,
        )
        .execute(&self.pool)
        .await;
        match inserted {
            Ok(_) => Ok(true),
            Err(sqlx::Error::Database(error)) if error.is_unique_violation() => Ok(false),
            Err(error) => Err(error),
        }
    }

    /// The user's whole row, in one query: enough for the token check, the bearer
    /// check and the profile alike.
    pub async fn user(&self, username: &str) -> Result<Option<UserRow>, sqlx::Error> {
        sqlx::query(USER_BY_NAME)
            .bind(username)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(user_from_row)
            .transpose()
    }

    pub async fn users(&self) -> Result<Vec<UserRow>, sqlx::Error> {
        sqlx::query(USERS_BY_NAME_ORDER)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(user_from_row)
            .collect()
    }

    /// Stores an API key's digest (never the key) unless it is there.
    pub async fn seed_api_key(
        &self,
        digest: &[u8; 32],
        owner: &str,
        scopes: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO api_keys (digest, owner, scopes) VALUES ($1, $2, $3)
             ON CONFLICT DO NOTHING",
        )
        .bind(hex(digest))
        .bind(owner)
        .bind(scopes)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The owner and scopes of the key with this digest, in one query.
    pub async fn api_key(
        &self,
        digest: &[u8; 32],
    ) -> Result<Option<(String, String)>, sqlx::Error> {
        let row = sqlx::query("SELECT owner, scopes FROM api_keys WHERE digest = $1")
            .bind(hex(digest))
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| Ok((row.try_get("owner")?, row.try_get("scopes")?)))
            .transpose()
    }
}

fn insert_user<'q>(
    sql: &'q str,
    user: &'q UserRow,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    sqlx::query(sql)
        .bind(&user.username)
        .bind(&user.password_hash)
        .bind(&user.scopes)
        .bind(i64::from(user.disabled))
        .bind(&user.email)
        .bind(&user.full_name)
}

fn user_from_row(row: &AnyRow) -> Result<UserRow, sqlx::Error> {
    Ok(UserRow {
        username: row.try_get("username")?,
        password_hash: row.try_get("password_hash")?,
        scopes: row.try_get("scopes")?,
        disabled: row.try_get::<i64, _>("disabled")? != 0,
        email: row.try_get("email")?,
        full_name: row.try_get("full_name")?,
    })
}

/// Lower-case hex, the flagship's spelling of a digest in `api_keys.digest`.
fn hex(digest: &[u8; 32]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(64);
    for byte in digest {
        out.push(DIGITS[usize::from(byte >> 4)] as char);
        out.push(DIGITS[usize::from(byte & 0xf)] as char);
    }
    out
}
