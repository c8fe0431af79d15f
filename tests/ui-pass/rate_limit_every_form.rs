// Every form of #[rate_limit] compiles, with and without scopes on the impl.
use secure_api::poem::Request;
use secure_api::prelude::*;
use secure_api::ratelimit::{KeyKind, Quota, RateLimit};
use std::time::Duration;

pub const SEARCH: RateLimit =
    RateLimit::new("search", Quota::per(30, Duration::from_secs(60))).key(KeyKind::Subject);

fn tenant(request: &Request) -> Option<String> {
    request.header("x-tenant").map(str::to_owned)
}

mod limits {
    pub fn by_region(request: &secure_api::poem::Request) -> Option<String> {
        request.header("x-region").map(str::to_owned)
    }
}

#[derive(Scopes)]
enum Scope {
    #[scope("reports:write", "File reports")]
    ReportsWrite,
}

struct Open;

#[secure_api]
impl Open {
    #[oai(path = "/a", method = "get")]
    #[rate_limit(10, per = "60s")]
    async fn a(&self) {}

    #[oai(path = "/b", method = "get")]
    #[rate_limit(10, per = "500ms", burst = 2, name = "b-fast", key = ip)]
    #[rate_limit(1000, per = "1d", key = subject)]
    #[rate_limit(5, per = "1h", key = api_key)]
    #[rate_limit(5, per = "15m", key = tenant)]
    #[rate_limit(5, per = "2m", key = limits::by_region)]
    async fn b(&self) {}

    #[oai(path = "/c", method = "get")]
    #[rate_limit(SEARCH)]
    async fn r#c(&self) {}

    #[oai(path = "/d", method = "get")]
    #[rate_limit(crate::SEARCH)]
    async fn d(&self) {}
}

struct Guarded;

#[secure_api(scopes = Scope)]
impl Guarded {
    #[oai(path = "/reports", method = "post")]
    #[requires_scopes("reports:write")]
    #[rate_limit(10, per = "60s", key = subject)]
    async fn file(&self, who: Principal) -> secure_api::poem_openapi::payload::PlainText<String> {
        secure_api::poem_openapi::payload::PlainText(who.subject().to_owned())
    }
}

fn main() {}
