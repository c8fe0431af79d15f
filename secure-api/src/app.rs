//! [`App`]: a service's routes behind the service-wide protections, in one fixed order.

use crate::{cors::CorsPolicy, headers::SecurityHeaders, hosts::TrustedHosts};
use crate::{ratelimit::Limiter, request_log::RequestLogEntry};
use poem::{Endpoint, IntoResponse, Request, Response, http::Extensions};
use std::fmt;

/// A service's routes with what every request of a service built with secure-api
/// goes through, outermost first:
///
/// 1. [trusted hosts](crate::hosts): a `Host` the service does not answer to gets 400
///    before anything else runs (when configured: any host is allowed otherwise, and a
///    warning says so at start);
/// 2. [CORS](crate::cors): preflights answered, `Access-Control-*` on the way out and
///    `Vary: Origin` on every answer (when configured: no CORS header otherwise, so
///    browsers allow same-origin only);
/// 3. the request data the guards read ([`Authenticator`](crate::Authenticator),
///    ...);
/// 4. the routes, where each guarded operation runs its own
///    [chain of checks](crate::guard);
/// 5. the [security headers](crate::headers) on every response, the 400 of step 1,
///    the router's 404 and 405 and every error included (on by default);
/// 6. one [request log](crate::request_log) event per answer, whatever answered it
///    (on by default).
///
/// ```
/// use secure_api::{App, cors::CorsPolicy, headers::SecurityHeaders, hosts::TrustedHosts};
/// use secure_api::poem::{self, Route, Server, handler, listener::TcpListener};
///
/// #[handler]
/// fn hello() -> &'static str { "hello" }
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let app = App::new(Route::new().at("/hello", hello))
///     .trusted_hosts(TrustedHosts::new(["localhost", "api.example.com"])?)
///     .cors(CorsPolicy::new(["https://frontend.example.com"])?)
///     .security_headers(SecurityHeaders::builder().swagger_ui("/docs").build()?);
/// let server = Server::new(TcpListener::bind("127.0.0.1:0")).run(app);
/// # Ok(())
/// # }
/// ```
pub struct App<E> {
    routes: E,
    hosts: Option<TrustedHosts>,
    cors: Option<CorsPolicy>,
    headers: SecurityHeaders,
    /// The request data, copied into each request in one go.
    data: Extensions,
    request_log: bool,
}

impl<E: fmt::Debug> fmt::Debug for App<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("App")
            .field("routes", &self.routes)
            .field("hosts", &self.hosts)
            .field("cors", &self.cors)
            .field("headers", &self.headers)
            .finish_non_exhaustive()
    }
}

impl<E: Endpoint> App<E> {
    /// `routes` behind the default protections: the security headers; no host check
    /// and no CORS until configured.
    ///
    /// ```
    /// # use secure_api::App;
    /// let app = App::new(secure_api::poem::Route::new());
    /// ```
    pub fn new(routes: E) -> Self {
        App {
            routes,
            hosts: None,
            cors: None,
            headers: SecurityHeaders::default(),
            data: Extensions::new(),
            request_log: true,
        }
    }

    /// Turns the [request log](crate::request_log) on (the default) or off: one
    /// `tracing` event per request, target `secure_api::request`.
    ///
    /// ```
    /// # use secure_api::App;
    /// let app = App::new(secure_api::poem::Route::new()).request_log(false);
    /// ```
    pub fn request_log(mut self, on: bool) -> Self {
        self.request_log = on;
        self
    }

    /// Answers only requests for these hosts.
    ///
    /// ```
    /// # use secure_api::{App, hosts::TrustedHosts};
    /// let app = App::new(secure_api::poem::Route::new())
    ///     .trusted_hosts(TrustedHosts::new(["api.example.com"]).unwrap());
    /// ```
    pub fn trusted_hosts(mut self, hosts: TrustedHosts) -> Self {
        self.hosts = Some(hosts);
        self
    }

    /// Lets pages of these origins call the service.
    ///
    /// ```
    /// # use secure_api::{App, cors::CorsPolicy};
    /// let app = App::new(secure_api::poem::Route::new())
    ///     .cors(CorsPolicy::new(["https://frontend.example.com"]).unwrap());
    /// ```
    pub fn cors(mut self, cors: CorsPolicy) -> Self {
        self.cors = Some(cors);
        self.headers = self.headers.varying_on_origin();
        self
    }

    /// Replaces the default security headers.
    ///
    /// ```
    /// # use secure_api::{App, headers::SecurityHeaders};
    /// let app = App::new(secure_api::poem::Route::new())
    ///     .security_headers(SecurityHeaders::builder().swagger_ui("/docs").build().unwrap());
    /// ```
    pub fn security_headers(mut self, headers: SecurityHeaders) -> Self {
        self.headers = match self.cors {
            Some(_) => headers.varying_on_origin(),
            None => headers,
        };
        self
    }

    /// Makes `value` request data (what `.data(value)` does on a poem endpoint): the
    /// guards find their services ([`Authenticator`](crate::Authenticator), ...) there.
    ///
    /// ```
    /// # use secure_api::App;
    /// #[derive(Clone)]
    /// struct Config { greeting: &'static str }
    /// let app = App::new(secure_api::poem::Route::new()).data(Config { greeting: "hi" });
    /// ```
    pub fn data<T: Clone + Send + Sync + 'static>(mut self, value: T) -> Self {
        self.data.insert(value);
        self
    }

    /// Steps 1 and 2's answers of their own: a refused host, a CORS preflight.
    fn answer_before_routes(&self, request: &Request) -> Option<Response> {
        if let Some(hosts) = &self.hosts
            && let Err(problem) = hosts.check(request)
        {
            return Some(problem.into_response());
        }
        self.cors.as_ref()?.preflight(request)
    }
}

impl<E: Endpoint> Endpoint for App<E> {
    type Output = Response;

    // The request moves once, into the routes, and the response not at all: every
    // other step borrows them. (Each is hundreds of bytes; an async step that takes
    // one by value copies it into its future, on every request.) An `async` block
    // rather than an `async fn`, which would keep the request twice in its future.
    #[allow(clippy::manual_async_fn)]
    fn call(&self, mut request: Request) -> impl Future<Output = poem::Result<Response>> + Send {
        async move {
            if self.hosts.is_none() {
                warn_once_any_host();
            }
            // A request arrives with no extensions, so the copy of the data becomes its
            // map whole (one table, each value cloned), rather than growing by an
            // insert per value. First, before the log adds its own.
            request.extensions_mut().extend(self.data.clone());
            let log = match self.request_log {
                true => RequestLogEntry::start(&mut request, self.data.get::<Limiter>()),
                false => None,
            };
            let rule = self.headers.rule_for(request.original_uri().path());
            let mut response = match self.answer_before_routes(&request) {
                Some(answer) => answer,
                None => {
                    // `Vary: Origin` is in the headers' prepared maps already.
                    let allowed = (self.cors.as_ref())
                        .and_then(|cors| Some((cors, cors.allowed_origin(&request)?.clone())));
                    let mut response = self.routes.get_response(request).await;
                    if let Some((cors, origin)) = allowed {
                        cors.allow(origin, response.headers_mut());
                    }
                    response
                }
            };
            self.headers.apply_rule(rule, &mut response).await;
            if let Some(log) = log {
                log.finish(response.status());
            }
            Ok(response)
        }
    }
}

fn warn_once_any_host() {
    static WARNED: std::sync::Once = std::sync::Once::new();
    WARNED.call_once(|| {
        tracing::warn!(
            "no trusted hosts are configured: requests for any Host are answered; \
             call App::trusted_hosts with the names this service is reached by"
        );
    });
}
