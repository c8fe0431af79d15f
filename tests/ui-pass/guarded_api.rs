// Every supported shape of a guarded API compiles: nested any/all, a Principal-only
// operation, #[scopes(...)] options, passthrough #[OpenApi] arguments, a path
// parameter beside a guard, `Result` return types, and a helper method taking a Principal.
use secure_api::poem_openapi;
use secure_api::poem_openapi::{ApiResponse, Object, param::Path, payload::Json};
use secure_api::prelude::*;

#[derive(Scopes)]
#[scopes(token_url = "/auth/token", scheme_name = "oauth")]
enum Scope {
    #[scope("users:read", "Read user profiles")]
    UsersRead,
    #[scope("users:write", "Create and edit users")]
    UsersWrite,
    #[scope("admin", "Everything")]
    Admin,
}

#[derive(Object)]
struct User {
    id: u64,
    name: String,
}

#[derive(ApiResponse)]
enum UserError {
    /// No such user
    #[oai(status = 404)]
    NotFound,
}

struct Api;

#[secure_api(scopes = Scope, prefix_path = "/v1")]
impl Api {
    /// The caller
    #[oai(path = "/me", method = "get")]
    async fn me(&self, who: Principal) -> Json<String> {
        Json(self.subject_of(who))
    }

    /// A helper, not an operation (no `#[oai]`): its `Principal` is a plain value.
    fn subject_of(&self, who: Principal) -> String {
        who.subject().to_owned()
    }

    /// Admin, or both users scopes
    #[oai(path = "/either", method = "get")]
    #[requires_scopes(any("admin", all("users:read", "users:write")))]
    async fn either(&self) -> Json<String> {
        Json("ok".to_owned())
    }

    /// A path parameter beside the guard; `Result` with an ApiResponse error
    #[oai(path = "/users/:id", method = "get")]
    #[requires_scopes("users:read")]
    async fn get(&self, who: Principal, Path(id): Path<u64>) -> Result<Json<User>, UserError> {
        if id == 0 {
            return Err(UserError::NotFound);
        }
        Ok(Json(User {
            id,
            name: who.subject().to_owned(),
        }))
    }

    /// `poem::Result`
    #[oai(path = "/users/:id", method = "delete")]
    #[requires_scopes(all("users:write", any("admin", "users:read")))]
    async fn delete(&self, id: Path<u64>) -> secure_api::poem::Result<Json<u64>> {
        Ok(Json(id.0))
    }

    /// Not guarded
    #[oai(path = "/health", method = "get")]
    async fn health(&self) -> Json<&'static str> {
        Json("ok")
    }
}

fn main() {
    let _ = poem_openapi::OpenApiService::new(Api, "test", "1.0");
    let _ = (Scope::UsersRead, Scope::UsersWrite, Scope::Admin);
}
