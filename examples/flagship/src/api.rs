//! The seed's API, as a service author writes it with secure-api.

use crate::store::{Profile, Users};
use secure_api::{
    mtls::ClientCert,
    password::PasswordHasher,
    poem_openapi::{self, ApiResponse, Enum, Object, payload::Json},
    prelude::*,
    problem::ProblemJson,
    users::UserRecord,
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
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "lowercase")]
pub enum Role {
    Admin,
    User,
    Moderator,
}

impl Role {
    /// What each role may do, as scopes.
    fn scopes(self) -> &'static [&'static str] {
        match self {
            Role::User => &["users:read", "items:read"],
            Role::Moderator => &["users:read", "items:read", "items:write"],
            Role::Admin => &["users:read", "users:write", "items:read", "items:write"],
        }
    }
}

/// A new user.
#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct UserCreate {
    /// 3 to 50 letters, digits, `_` or `-`.
    #[oai(validator(min_length = 3, max_length = 50, pattern = r"^[a-zA-Z0-9_-]+$"))]
    pub username: String,
    #[oai(validator(max_length = 254, pattern = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"))]
    pub email: String,
    /// At least 8 characters, with an upper-case letter, a lower-case letter, a digit
    /// and a character that is none of these.
    #[oai(write_only, validator(min_length = 8, max_length = 1024))]
    pub password: String,
    #[oai(default)]
    pub roles: Vec<Role>,
}

#[derive(ApiResponse)]
pub enum CreateUserResponse {
    /// The user was created.
    #[oai(status = 201)]
    Created(Json<User>),
    /// A user with this name exists.
    #[oai(status = 409)]
    Conflict(ProblemJson),
    /// The password is too weak.
    #[oai(status = 422)]
    Invalid(ProblemJson),
}

#[derive(Object)]
pub struct Message {
    pub message: String,
}

pub struct UsersApi {
    pub users: Users,
    pub hasher: PasswordHasher,
}

#[secure_api(scopes = Scope)]
impl UsersApi {
    /// The caller's own profile
    #[oai(path = "/users/me/", method = "get")]
    async fn me(&self, who: Principal) -> Json<Option<User>> {
        let user = self.users.get(who.subject());
        Json(user.map(|(record, profile)| User::from_parts(record, profile)))
    }

    /// Every user
    #[oai(path = "/users/", method = "get")]
    #[requires_scopes("users:read")]
    async fn list(&self) -> Json<Vec<User>> {
        let users = self.users.all().into_iter();
        Json(
            users
                .map(|(record, profile)| User::from_parts(record, profile))
                .collect(),
        )
    }

    /// Create a user
    #[oai(path = "/users/", method = "post")]
    #[requires_scopes("users:write")]
    async fn create(&self, Json(new): Json<UserCreate>) -> CreateUserResponse {
        if let Some(rule) = password_rule_broken(&new.password) {
            return CreateUserResponse::Invalid(ProblemJson::new(422, format!("password: {rule}")));
        }
        let mut scopes: Vec<String> = Vec::new();
        for scope in new.roles.iter().flat_map(|role| role.scopes()) {
            if !scopes.iter().any(|s| s == scope) {
                scopes.push(scope.to_string());
            }
        }
        let Ok(password_hash) = self.hasher.hash(&new.password).await else {
            return CreateUserResponse::Invalid(ProblemJson::new(
                422,
                "password: cannot be hashed",
            ));
        };
        let record = UserRecord {
            username: new.username,
            password_hash,
            scopes,
            disabled: false,
        };
        let profile = Profile {
            email: Some(new.email),
            full_name: None,
        };
        match self.users.create(record.clone(), profile.clone()) {
            Ok(()) => CreateUserResponse::Created(Json(User::from_parts(record, profile))),
            Err(_) => CreateUserResponse::Conflict(ProblemJson::new(
                409,
                "a user with this name already exists",
            )),
        }
    }
}

/// The seed's password rule: an upper-case letter, a lower-case letter, a digit and
/// a character that is none of these.
fn password_rule_broken(password: &str) -> Option<&'static str> {
    let has = |f: fn(&char) -> bool| password.chars().any(|c| f(&c));
    if !has(char::is_ascii_uppercase) {
        return Some("must contain an upper-case letter");
    }
    if !has(char::is_ascii_lowercase) {
        return Some("must contain a lower-case letter");
    }
    if !has(char::is_ascii_digit) {
        return Some("must contain a digit");
    }
    if !has(|c| !c.is_ascii_alphanumeric()) {
        return Some("must contain a character that is not a letter or a digit");
    }
    None
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

    /// A resource for services holding an API key
    #[oai(path = "/api/resource", method = "get")]
    #[requires_api_key]
    async fn resource(&self, key: ApiKeyIdentity) -> Json<Resource> {
        Json(Resource {
            resource: "secure data".to_owned(),
            owner: key.owner().to_owned(),
            scope: key.scopes().collect::<Vec<_>>().join(" "),
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
