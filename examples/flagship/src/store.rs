//! The service's database: users (credentials for the framework through `UserStore`,
//! and the profile the API shows) and API keys (their digests only, through
//! `ApiKeyStore`).
//!
//! One code path for SQLite and PostgreSQL: sqlx's `Any` driver picks the backend from
//! the URL, and the SQL below is the subset both speak (`$1` parameters, `TEXT` and
//! `BIGINT` columns, `ON CONFLICT DO NOTHING`).

use secure_api::{
    apikey::{ApiKeyRecord, ApiKeyStore, KeyDigest},
    users::{StoreError, UserDetails, UserRecord, UserStore},
};
use sqlx::{
    AnyConnection, AnyPool, Connection, Row,
    any::{AnyPoolOptions, AnyRow},
};
use std::time::Duration;

/// The URL used when `SECURE_API_DATABASE_URL` is not set.
pub const IN_MEMORY: &str = "sqlite::memory:";

/// The schema, one version per entry, applied in order at start; a version is applied
/// once, recorded in `schema_version`. A later change is a new entry, never an edit.
const MIGRATIONS: &[&[&str]] = &[&[
    // Names compare byte for byte (both backends' default): `Alice` and `alice` are two
    // users, exactly as the tokens' `sub` and the login throttle see them.
    "CREATE TABLE users (
        username      TEXT PRIMARY KEY,
        password_hash TEXT NOT NULL,
        scopes        TEXT NOT NULL,
        disabled      BIGINT NOT NULL DEFAULT 0,
        email         TEXT,
        full_name     TEXT
    )",
    // The HMAC-SHA256 digest of each key, in hex: the keys themselves are never stored.
    "CREATE TABLE api_keys (
        digest TEXT PRIMARY KEY,
        owner  TEXT NOT NULL,
        scopes TEXT NOT NULL
    )",
]];

/// Any number, the same for every replica: the PostgreSQL advisory lock that lets one
/// replica at a time migrate.
const MIGRATION_LOCK: i64 = 0x0005_ec0a_91db;

/// What the API shows of a user beyond the framework's [`UserRecord`]: read with the
/// record into its `details`, so the bearer guard's lookup serves the handler too.
#[derive(Clone)]
pub struct Profile {
    pub email: Option<String>,
    pub full_name: Option<String>,
}

/// A handle on the database; clones share the connection pool.
#[derive(Clone)]
pub struct Database {
    pool: AnyPool,
}

/// Why a user was not created.
pub enum CreateError {
    /// The database's UNIQUE constraint refused the name: it is taken.
    UsernameTaken,
    Store(StoreError),
}

impl Database {
    /// Connects and brings the schema up to date.
    pub async fn connect(url: &str) -> Result<Database, sqlx::Error> {
        sqlx::any::install_default_drivers();
        let url = sqlite_creating_file(url);
        // One connection first, for its own error: the pool retries until its timeout
        // and then says only that it timed out ("connection refused" is the news).
        AnyConnection::connect(&url).await?.close().await?;
        // A request waits this long for a connection before its 503: long enough to ride
        // out a busy pool, short enough that an outage is not a hang.
        let options = AnyPoolOptions::new().acquire_timeout(Duration::from_secs(2));
        let options = if url.starts_with("sqlite::memory:") {
            // Each connection to `:memory:` is a database of its own: keep exactly one,
            // forever.
            options
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
        } else {
            options
        };
        let database = Database {
            pool: options.connect(&url).await?,
        };
        database.migrate().await?;
        Ok(database)
    }

    async fn migrate(&self) -> Result<(), sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        if tx.backend_name() == "PostgreSQL" {
            // Replicas starting together would otherwise race on CREATE TABLE. SQLite
            // needs no lock: its first write in the transaction locks the file.
            sqlx::query("SELECT 1 FROM pg_advisory_xact_lock($1)")
                .bind(MIGRATION_LOCK)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT PRIMARY KEY)")
            .execute(&mut *tx)
            .await?;
        let applied: i64 = sqlx::query("SELECT COUNT(*) AS applied FROM schema_version")
            .fetch_one(&mut *tx)
            .await?
            .try_get("applied")?;
        for (version, statements) in (1i64..).zip(MIGRATIONS).skip(applied as usize) {
            for statement in *statements {
                sqlx::query(statement).execute(&mut *tx).await?;
            }
            sqlx::query("INSERT INTO schema_version (version) VALUES ($1)")
                .bind(version)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await
    }

    /// Adds a user. The database decides whether the name is taken, so concurrent
    /// creations of one name, through any replica, make exactly one user.
    pub async fn create_user(
        &self,
        record: &UserRecord,
        profile: &Profile,
    ) -> Result<(), CreateError> {
        let inserted = insert_user(INSERT_USER, record, profile)
            .execute(&self.pool)
            .await;
        match inserted {
            Ok(_) => Ok(()),
            Err(sqlx::Error::Database(error)) if error.is_unique_violation() => {
                Err(CreateError::UsernameTaken)
            }
            Err(error) => Err(CreateError::Store(store_error(error))),
        }
    }

    /// Adds a user unless the name exists: seeding at start, which every replica may
    /// do at the same time.
    pub async fn seed_user(
        &self,
        record: &UserRecord,
        profile: &Profile,
    ) -> Result<(), StoreError> {
        insert_user(SEED_USER, record, profile)
            .execute(&self.pool)
            .await
            .map_err(store_error)?;
        Ok(())
    }

    /// The user, with the profile in the record's details: what the bearer guard hands
    /// the handler.
    pub async fn user(&self, username: &str) -> Result<Option<UserRecord>, StoreError> {
        let row = sqlx::query(USER_BY_NAME)
            .bind(username)
            .fetch_optional(&self.pool)
            .await
            .map_err(store_error)?;
        let Some(row) = row else { return Ok(None) };
        let (record, profile) = user_from_row(&row)?;
        Ok(Some(UserRecord {
            details: UserDetails::new(profile),
            ..record
        }))
    }

    /// Every user and its profile, by name.
    pub async fn users(&self) -> Result<Vec<(UserRecord, Profile)>, StoreError> {
        let rows = sqlx::query(USERS_BY_NAME)
            .fetch_all(&self.pool)
            .await
            .map_err(store_error)?;
        rows.iter().map(user_from_row).collect()
    }

    /// Stores an API key's record (its digest, never the key) unless the digest is
    /// already there: seeding, idempotent across replicas.
    pub async fn seed_api_key(&self, record: &ApiKeyRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO api_keys (digest, owner, scopes) VALUES ($1, $2, $3)
             ON CONFLICT DO NOTHING",
        )
        .bind(record.digest.to_hex())
        .bind(&record.owner)
        .bind(&record.scope)
        .execute(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(())
    }
}

const INSERT_USER: &str =
    "INSERT INTO users (username, password_hash, scopes, disabled, email, full_name)
     VALUES ($1, $2, $3, $4, $5, $6)";
/// The same, doing nothing when the name exists.
const SEED_USER: &str =
    "INSERT INTO users (username, password_hash, scopes, disabled, email, full_name)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT DO NOTHING";

/// `sql` (one of the two above) with the user's values bound.
fn insert_user<'q>(
    sql: &'q str,
    record: &'q UserRecord,
    profile: &'q Profile,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    sqlx::query(sql)
        .bind(&record.username)
        .bind(&record.password_hash)
        .bind(record.scopes.join(" "))
        .bind(i64::from(record.disabled))
        .bind(&profile.email)
        .bind(&profile.full_name)
}

/// The columns `user_from_row` reads; whole literals, so no query text is built per request.
const USER_BY_NAME: &str = "SELECT username, password_hash, scopes, disabled, email, full_name \
                            FROM users WHERE username = $1";
const USERS_BY_NAME: &str = "SELECT username, password_hash, scopes, disabled, email, full_name \
                             FROM users ORDER BY username";

fn user_from_row(row: &AnyRow) -> Result<(UserRecord, Profile), StoreError> {
    let record = UserRecord {
        username: row.try_get("username").map_err(store_error)?,
        password_hash: row.try_get("password_hash").map_err(store_error)?,
        scopes: words(row.try_get("scopes").map_err(store_error)?),
        disabled: row.try_get::<i64, _>("disabled").map_err(store_error)? != 0,
        details: UserDetails::none(),
    };
    let profile = Profile {
        email: row.try_get("email").map_err(store_error)?,
        full_name: row.try_get("full_name").map_err(store_error)?,
    };
    Ok((record, profile))
}

impl UserStore for Database {
    async fn find_user(&self, username: &str) -> Result<Option<UserRecord>, StoreError> {
        self.user(username).await
    }

    async fn set_password_hash(&self, username: &str, phc: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE users SET password_hash = $1 WHERE username = $2")
            .bind(phc)
            .bind(username)
            .execute(&self.pool)
            .await
            .map_err(store_error)?;
        Ok(())
    }
}

impl ApiKeyStore for Database {
    async fn find_key(&self, digest: &KeyDigest) -> Result<Option<ApiKeyRecord>, StoreError> {
        let row = sqlx::query("SELECT owner, scopes FROM api_keys WHERE digest = $1")
            .bind(digest.to_hex())
            .fetch_optional(&self.pool)
            .await
            .map_err(store_error)?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(ApiKeyRecord::with_scope(
            *digest,
            row.try_get::<String, _>("owner").map_err(store_error)?,
            row.try_get::<String, _>("scopes").map_err(store_error)?,
        )))
    }
}

/// `sqlite:PATH` creates the file when it is missing, unless the URL says otherwise
/// (`?mode=rw`): a path where nothing exists yet is the normal first start.
fn sqlite_creating_file(url: &str) -> String {
    if !url.starts_with("sqlite:") || url.starts_with("sqlite::memory:") || url.contains("mode=") {
        return url.to_owned();
    }
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}mode=rwc")
}

fn words(joined: String) -> Vec<String> {
    joined.split_whitespace().map(str::to_owned).collect()
}

/// The database's own words, for the log; requests get a plain 503.
fn store_error(error: sqlx::Error) -> StoreError {
    StoreError(error.to_string())
}
