//! The seed's API, as a service author writes it with secure-api.

use crate::store::{CreateError, Database, Profile};
use secure_api::{
    mtls::ClientCert,
    password::PasswordHasher,
    poem_openapi::{self, ApiResponse, Object, payload::Json},
    prelude::*,
    problem::ProblemJson,
    users::{StoreError, UserDetails, UserRecord},
};

#[derive(Scopes)]
pub enum Scope {
    #[scope("users:read", "Read user information")]
    UsersRead,
    #[scope("users:write", "Create or modify users")]
    UsersWrite,
    #[scope("items:read", "Read items")]
    ItemsRead,
    #[scope("items:write", "Create or modify items")]
    ItemsWrite,
}

/// A user as the API shows it: never the password hash.
#[derive(Object)]
pub struct User {
    pub username: String,
    pub email: Option<String>,
    pub full_name: Option<String>,
    pub disabled: bool,
    pub scopes: Vec<String>,
}

impl User {
    fn from_parts(record: UserRecord, profile: Profile) -> Self {
        User {
            username: record.username,
            email: profile.email,
            full_name: profile.full_name,
            disabled: record.disabled,
            scopes: record.scopes,
        }
    }

    /// A user as the store read it, with its profile in the record's details.
    fn from_record(record: &UserRecord) -> Self {
        let profile = record.details.get::<Profile>();
        User {
            username: record.username.clone(),
            email: profile.and_then(|profile| profile.email.clone()),
            full_name: profile.and_then(|profile| profile.full_name.clone()),
            disabled: record.disabled,
            scopes: record.scopes.clone(),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Admin,
    User,
    Moderator,
}

impl Role {
    /// The role `UserCreate` names (its `one_of` rule admits exactly these).
    fn from_name(name: &str) -> Option<Role> {
        match name {
            "admin" => Some(Role::Admin),
            "user" => Some(Role::User),
            "moderator" => Some(Role::Moderator),
            _ => None,
        }
    }

    /// What each role may do, as scopes.
    fn scopes(self) -> &'static [&'static str] {
        match self {
            Role::User => &["users:read", "items:read"],
            Role::Moderator => &["users:read", "items:read", "items:write"],
            Role::Admin => &["users:read", "users:write", "items:read", "items:write"],
        }
    }
}

/// A new user. Every rule is checked before the handler runs; a body that breaks
/// any of them gets one 422 that lists them all.
#[derive(Validate)]
pub struct UserCreate {
    /// 3 to 50 letters, digits, `_` or `-`.
    #[validate(length(min = 3, max = 50), pattern = r"^[a-zA-Z0-9_-]+$")]
    pub username: String,
    #[validate(email)]
    pub email: String,
    /// At least 8 characters, with an upper-case letter, a lower-case letter, a digit
    /// and a character that is none of these.
    // Exactly the contract's rule, which other test suites rely on; a new service
    // keeps the default blocklist of common and breached passwords.
    #[validate(password(min_length = 8, composition, blocklist = false))]
    pub password: String,
    /// Each of `admin`, `user`, `moderator`.
    #[validate(default, each(one_of("admin", "user", "moderator")))]
    pub roles: Vec<String>,
}

#[derive(ApiResponse)]
pub enum CreateUserResponse {
    /// The user was created.
    #[oai(status = 201)]
    Created(Json<User>),
    /// A user with this name exists.
    #[oai(status = 409)]
    Conflict(ProblemJson),
    /// The password could not be hashed now (the hashing pool is saturated), or the
    /// user database is unavailable; retry.
    #[oai(status = 503)]
    Unavailable(
        ProblemJson,
        /// Seconds to wait before retrying.
        #[oai(header = "Retry-After")]
        u64,
    ),
}

#[derive(Object)]
pub struct Message {
    pub message: String,
}

/// The user database did not answer: 503, and the cause in the log only.
#[derive(ApiResponse)]
pub enum StoreUnavailable {
    /// The user database is unavailable; retry.
    #[oai(status = 503)]
    Unavailable(
        ProblemJson,
        /// Seconds to wait before retrying.
        #[oai(header = "Retry-After")]
        u64,
    ),
}

impl From<StoreError> for StoreUnavailable {
    fn from(error: StoreError) -> Self {
        tracing::error!(%error, "the user database failed");
        StoreUnavailable::Unavailable(
            ProblemJson::new(503, "the user database is unavailable; retry"),
            1,
        )
    }
}

pub struct UsersApi {
    pub db: Database,
    pub hasher: PasswordHasher,
}

#[secure_api(scopes = Scope)]
impl UsersApi {
    /// The caller's own profile
    #[oai(path = "/users/me/", method = "get")]
    async fn me(&self, who: Principal) -> Json<Option<User>> {
        // The bearer guard read the caller's row in this request (to check that the
        // user exists and is enabled); it carries the profile, so no second query.
        Json(who.user().map(User::from_record))
    }

    /// Every user
    #[oai(path = "/users/", method = "get")]
    #[requires_scopes("users:read")]
    async fn list(&self) -> Result<Json<Vec<User>>, StoreUnavailable> {
        let users = self.db.users().await?.into_iter();
        Ok(Json(
            users
                .map(|(record, profile)| User::from_parts(record, profile))
                .collect(),
        ))
    }

    /// Create a user
    #[oai(path = "/users/", method = "post")]
    #[requires_scopes("users:write")]
    async fn create(&self, ValidJson(new): ValidJson<UserCreate>) -> CreateUserResponse {
        let mut scopes: Vec<String> = Vec::new();
        for scope in new
            .roles
            .iter()
            .filter_map(|role| Role::from_name(role))
            .flat_map(Role::scopes)
        {
            if !scopes.iter().any(|s| s == scope) {
                scopes.push(scope.to_string());
            }
        }
        let Ok(password_hash) = self.hasher.hash(&new.password).await else {
            return CreateUserResponse::Unavailable(
                ProblemJson::new(503, "the password could not be hashed now; retry"),
                1,
            );
        };
        let record = UserRecord {
            username: new.username,
            password_hash,
            scopes,
            disabled: false,
            details: UserDetails::none(),
        };
        let profile = Profile {
            email: Some(new.email),
            full_name: None,
        };
        match self.db.create_user(&record, &profile).await {
            Ok(()) => CreateUserResponse::Created(Json(User::from_parts(record, profile))),
            Err(CreateError::UsernameTaken) => CreateUserResponse::Conflict(ProblemJson::new(
                409,
                "a user with this name already exists",
            )),
            Err(CreateError::Store(error)) => {
                let StoreUnavailable::Unavailable(problem, retry_after) = error.into();
                CreateUserResponse::Unavailable(problem, retry_after)
            }
        }
    }
}

/// What an API key may read.
#[derive(Object)]
pub struct Resource {
    pub resource: String,
    /// Who holds the key.
    pub owner: String,
    /// The key's scopes, space-separated.
    pub scope: String,
}

/// The answer to a service that presented a client certificate.
#[derive(Object)]
pub struct ServiceGreeting {
    pub message: String,
    /// The subject common name of its certificate.
    pub client: Option<String>,
}

pub struct PublicApi;

#[secure_api(version(1, deprecated = "2026-06-01", sunset = "2027-06-30T23:59:59Z"))]
impl PublicApi {
    /// Public data, no guard
    #[oai(path = "/api/data", method = "get")]
    async fn data(&self) -> Json<Message> {
        Json(Message {
            message: "This is public data".to_owned(),
        })
    }

    /// Rate-limited public data: 100 requests per 60 s per client IP
    #[oai(path = "/api/public", method = "get")]
    #[rate_limit(100, per = "60s", name = "public")]
    async fn public(&self) -> Json<Message> {
        Json(Message {
            message: "This is a rate-limited public endpoint".to_owned(),
        })
    }

    /// A sensitive action: 10 requests per 60 s per client IP
    #[oai(path = "/api/sensitive", method = "post")]
    #[rate_limit(10, per = "60s", name = "sensitive")]
    async fn sensitive(&self) -> Json<Message> {
        Json(Message {
            message: "This is a more strictly rate-limited endpoint".to_owned(),
        })
    }

    /// Per user: 100 requests per 60 s per verified token subject (per client IP
    /// without a valid token; no token is needed)
    #[oai(path = "/api/user-specific", method = "get")]
    #[rate_limit(100, per = "60s", key = subject, name = "user-specific")]
    async fn user_specific(&self) -> Json<Message> {
        Json(Message {
            message: "This endpoint is rate-limited per user".to_owned(),
        })
    }

    /// A resource for services holding an API key
    #[oai(path = "/api/resource", method = "get")]
    #[requires_api_key]
    async fn resource(&self, key: ApiKeyIdentity) -> Json<Resource> {
        Json(Resource {
            resource: "secure data".to_owned(),
            owner: key.owner().to_owned(),
            scope: key.scope().to_owned(),
        })
    }

    /// Service-to-service, over mutual TLS only
    #[oai(path = "/service-endpoint", method = "get")]
    async fn service_endpoint(&self, peer: ClientCert) -> Json<ServiceGreeting> {
        Json(ServiceGreeting {
            message: "Authenticated via mTLS".to_owned(),
            client: peer.common_name().map(str::to_owned),
        })
    }

    /// Users, API version 1 (deprecated: v2 has ids and roles)
    #[oai(path = "/users", method = "get")]
    #[api_version(1)]
    async fn users_v1(&self) -> Json<serde_json::Value> {
        Json(serde_json::json!({"version": "1", "users": ["user1", "user2"]}))
    }

    /// Users, API version 2
    #[oai(path = "/users", method = "get")]
    #[api_version(2)]
    async fn users_v2(&self) -> Json<serde_json::Value> {
        Json(serde_json::json!({"version": "2", "users": [
            {"id": 1, "name": "user1", "role": "admin"},
            {"id": 2, "name": "user2", "role": "user"},
        ]}))
    }
}
