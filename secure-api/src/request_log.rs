//! One structured [`tracing`] event per request, on by default in [`App`](crate::App).
//!
//! Every answer gets exactly one event at `INFO` with target [`TARGET`], refusals of
//! the framework included (400 for a host, 401, 403, 404, 405, 413, 422, 429). Its
//! fields:
//!
//! | field | value |
//! | --- | --- |
//! | `method` | `GET`, `POST`, ... |
//! | `path` | the path as requested, **without** the query string (it may carry an API key) |
//! | `status` | the status code answered, as a number |
//! | `latency_ms` | from the request reaching [`App`](crate::App) to the answer, in milliseconds |
//! | `client_ip` | the client IP, behind the trusted proxies of the [`Limiter`] when there is one in the request data, else the peer address |
//! | `principal` | when a guard verified the caller: the bearer token's subject, or the owner of the API key; absent otherwise |
//!
//! Nothing else of the request is read: no header (so no token, cookie or API key), no
//! query string, no body (so no password). A subscriber that filters out the target
//! pays one cached interest check per request and nothing more: the principal slot,
//! the clock and the client IP are only made when the event will be recorded.
//!
//! ```
//! use secure_api::App;
//! use secure_api::poem::{Route, handler};
//!
//! #[handler]
//! fn hello() -> &'static str { "hello" }
//!
//! // On by default; `RUST_LOG=secure_api::request=off` silences it, or:
//! let quiet = App::new(Route::new().at("/hello", hello)).request_log(false);
//! ```

use crate::ratelimit::Limiter;
use poem::Request;
use std::{
    net::{IpAddr, SocketAddr},
    sync::{Arc, OnceLock},
    time::Instant,
};

/// The target of the per-request event: filter it with `RUST_LOG=secure_api::request=...`.
pub const TARGET: &str = "secure_api::request";

/// Where a guard writes who the caller turned out to be, for the event written once
/// the answer is known. Shared, because the request (and its extensions) moves into
/// the routes while the log layer keeps its own handle.
#[derive(Clone, Default)]
pub(crate) struct PrincipalSlot(Arc<OnceLock<Box<str>>>);

/// Records `name` as the request's principal, when a request log is being written
/// for it; the first verified identity wins.
pub(crate) fn record_principal(request: &Request, name: &str) {
    if let Some(slot) = request.extensions().get::<PrincipalSlot>() {
        let _ = slot.0.set(name.into());
    }
}

/// What the event needs from the request, taken before the request moves on.
pub(crate) struct RequestLogEntry {
    started: Instant,
    method: poem::http::Method,
    path: Box<str>,
    client_ip: Option<IpAddr>,
    principal: PrincipalSlot,
}

impl RequestLogEntry {
    /// Starts an entry for `request` when the event would be recorded, else `None`
    /// (and nothing is allocated). The client IP is the one `limiter` sees, behind the
    /// service's trusted proxies, so logs and limits name the same client.
    pub(crate) fn start(request: &mut Request, limiter: Option<&Limiter>) -> Option<Self> {
        if !tracing::enabled!(target: TARGET, tracing::Level::INFO) {
            return None;
        }
        let principal = PrincipalSlot::default();
        request.extensions_mut().insert(principal.clone());
        let client_ip = match limiter {
            Some(limiter) => limiter.client_ip(request),
            None => request.remote_addr().as_socket_addr().map(SocketAddr::ip),
        };
        Some(RequestLogEntry {
            started: Instant::now(),
            method: request.method().clone(),
            path: request.original_uri().path().into(),
            client_ip,
            principal,
        })
    }

    /// Writes the one event of the request, now that its answer is `status`.
    pub(crate) fn finish(self, status: poem::http::StatusCode) {
        // Whole microseconds, so the number reads `12.345`, not `12.345000000000001`.
        let latency_ms = self.started.elapsed().as_micros() as f64 / 1000.0;
        let client_ip = self.client_ip.map(tracing::field::display);
        let principal = self.principal.0.get().map(|name| &**name);
        tracing::info!(
            target: TARGET,
            method = self.method.as_str(),
            path = &*self.path,
            status = status.as_u16(),
            latency_ms,
            client_ip,
            principal,
            "request"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_principal_is_recorded_only_where_a_log_is_written() {
        let mut request = Request::default();
        record_principal(&request, "nobody is listening");
        assert!(request.extensions().get::<PrincipalSlot>().is_none());

        let slot = PrincipalSlot::default();
        request.extensions_mut().insert(slot.clone());
        record_principal(&request, "alice");
        record_principal(&request, "mallory");
        assert_eq!(slot.0.get().map(|name| &**name), Some("alice"));
    }
}
