//! API keys: declared once, required per operation, stored hashed.
//!
//! ```
//! use secure_api::prelude::*;
//! use secure_api::poem_openapi::payload::PlainText;
//!
//! struct ResourceApi;
//!
//! #[secure_api]
//! impl ResourceApi {
//!     /// A resource for services
//!     #[oai(path = "/api/resource", method = "get")]
//!     #[requires_api_key]
//!     async fn resource(&self, key: ApiKeyIdentity) -> PlainText<String> {
//!         PlainText(format!("hello {}", key.owner()))
//!     }
//!
//!     /// Writes, for keys with the `write` scope
//!     #[oai(path = "/api/resource", method = "post")]
//!     #[requires_api_key(scope = "write")]
//!     async fn write(&self) -> PlainText<&'static str> {
//!         PlainText("written")
//!     }
//! }
//! ```
//!
//! The service adds an [`ApiKeys`] to its request data (`App::data`, or poem's
//! `.data(...)`): the [hasher](ApiKeyHasher) and the [store](ApiKeyStore).
//!
//! # Where the key is read
//!
//! [`StandardApiKeys`], the default, reads the header `X-API-Key`, the query parameter
//! `api-key` and the cookie `api-key`; a service that wants another subset declares it
//! once with its own [`ApiKeyScheme`] and names it in `#[secure_api(api_keys = ...)]`.
//! The OpenAPI document shows one `apiKey` security scheme per location and, on each
//! operation that needs a key, one security requirement per location (any of them).
//!
//! The query string is **discouraged**: URLs end up in proxy and server access logs,
//! browser history and `Referer` headers. It is there because the seed accepts it;
//! prefer the header, or leave the query out of your scheme. secure-api never writes a
//! key to its logs, wherever it came from: its log lines name the path (never the query)
//! and, for a known key, its [`key_id`](ApiKeyIdentity::key_id).
//!
//! # Answers
//!
//! A missing key, an unknown one, a key sent twice with different values, or one too
//! long to be a key: all get the same 401 with `WWW-Authenticate: ApiKey` and the same
//! body, so nothing tells which it was. A known key without the required scope gets
//! 403. A failing store gets 503 with `Retry-After`.

mod generate;
mod hash;
mod store;

pub use generate::{ApiKeyGenerator, BadPrefix};
pub use hash::{ApiKeyHasher, KeyDigest, MIN_SECRET_LEN, WeakSecret};
pub use store::{ApiKeyRecord, ApiKeyStore, InMemoryApiKeyStore};

use crate::guard::ApiKeyRejection;
use poem::{Request, http::header};
use std::{borrow::Cow, fmt, sync::Arc};
use store::SharedApiKeyStore;

/// Where a service reads API keys, declared once as a type. Each location is `Some(name)`
/// or `None`; the defaults are [`StandardApiKeys`]'s.
///
/// ```
/// use secure_api::apikey::ApiKeyScheme;
///
/// /// Keys only in the `X-API-Key` header.
/// struct HeaderKeys;
/// impl ApiKeyScheme for HeaderKeys {
///     const QUERY: Option<&'static str> = None;
///     const COOKIE: Option<&'static str> = None;
/// }
/// ```
pub trait ApiKeyScheme: Send + Sync + 'static {
    /// The request header carrying the key.
    const HEADER: Option<&'static str> = Some("X-API-Key");
    /// The query parameter carrying the key (discouraged: see [the module](self)).
    const QUERY: Option<&'static str> = Some("api-key");
    /// The cookie carrying the key.
    const COOKIE: Option<&'static str> = Some("api-key");
    /// The names of the three security schemes in the OpenAPI document.
    const SCHEME_NAMES: [&'static str; 3] = ["ApiKeyHeader", "ApiKeyQuery", "ApiKeyCookie"];
}

/// The seed's scheme: header `X-API-Key`, query parameter `api-key`, cookie `api-key`.
#[derive(Debug, Clone, Copy)]
pub struct StandardApiKeys;

impl ApiKeyScheme for StandardApiKeys {}

/// What an operation requires of an API key: where it may come from, and the key
/// scope it must have, if any.
///
/// ```
/// use secure_api::apikey::{ApiKeyRequirement, StandardApiKeys};
///
/// const WRITE: ApiKeyRequirement = ApiKeyRequirement::of::<StandardApiKeys>().scope("write");
/// assert_eq!(WRITE.required_scope(), Some("write"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiKeyRequirement {
    header: Option<&'static str>,
    query: Option<&'static str>,
    cookie: Option<&'static str>,
    scope: Option<&'static str>,
    scheme_names: [&'static str; 3],
}

impl ApiKeyRequirement {
    /// Any key known to the store, read where `K` says. A scheme with no location at
    /// all is a compile error where the requirement is evaluated.
    ///
    /// ```
    /// # use secure_api::apikey::{ApiKeyRequirement, StandardApiKeys};
    /// const ANY_KEY: ApiKeyRequirement = ApiKeyRequirement::of::<StandardApiKeys>();
    /// ```
    pub const fn of<K: ApiKeyScheme>() -> Self {
        assert!(
            K::HEADER.is_some() || K::QUERY.is_some() || K::COOKIE.is_some(),
            "an ApiKeyScheme reads the key from at least one of HEADER, QUERY, COOKIE"
        );
        ApiKeyRequirement {
            header: K::HEADER,
            query: K::QUERY,
            cookie: K::COOKIE,
            scope: None,
            scheme_names: K::SCHEME_NAMES,
        }
    }

    /// The same, for keys that have `scope`.
    ///
    /// ```
    /// # use secure_api::apikey::{ApiKeyRequirement, StandardApiKeys};
    /// const READ: ApiKeyRequirement = ApiKeyRequirement::of::<StandardApiKeys>().scope("read");
    /// ```
    pub const fn scope(mut self, scope: &'static str) -> Self {
        self.scope = Some(scope);
        self
    }

    /// The key scope required, if any.
    ///
    /// ```
    /// # use secure_api::apikey::{ApiKeyRequirement, StandardApiKeys};
    /// assert_eq!(ApiKeyRequirement::of::<StandardApiKeys>().required_scope(), None);
    /// ```
    pub const fn required_scope(&self) -> Option<&'static str> {
        self.scope
    }

    /// The OpenAPI security schemes of the locations read, as `(name, in, parameter)`.
    pub(crate) fn schemes(&self) -> Vec<(&'static str, &'static str, &'static str)> {
        let [header, query, cookie] = self.scheme_names;
        let mut schemes = Vec::new();
        if let Some(name) = self.header {
            schemes.push((header, "header", name));
        }
        if let Some(name) = self.query {
            schemes.push((query, "query", name));
        }
        if let Some(name) = self.cookie {
            schemes.push((cookie, "cookie", name));
        }
        schemes
    }
}

/// The verified holder of an API key, as handlers receive it (a parameter of this
/// type in a `#[secure_api]` operation requires a key, like `#[requires_api_key]`).
///
/// ```
/// use secure_api::ApiKeyIdentity;
/// fn describe(key: &ApiKeyIdentity) -> String {
///     format!("{} ({}) may {:?}", key.owner(), key.key_id(), key.scopes().collect::<Vec<_>>())
/// }
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKeyIdentity {
    inner: Arc<ApiKeyRecord>,
}

impl fmt::Debug for ApiKeyIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKeyIdentity")
            .field("owner", &self.inner.owner)
            .field("scope", &self.inner.scope)
            .field("key_id", &self.key_id())
            .finish()
    }
}

impl ApiKeyIdentity {
    /// Who the key belongs to.
    ///
    /// ```
    /// # use secure_api::ApiKeyIdentity;
    /// fn owner(key: &ApiKeyIdentity) -> &str { key.owner() }
    /// ```
    pub fn owner(&self) -> &str {
        &self.inner.owner
    }

    /// The key's scopes.
    ///
    /// ```
    /// # use secure_api::ApiKeyIdentity;
    /// fn scopes(key: &ApiKeyIdentity) -> Vec<&str> { key.scopes().collect() }
    /// ```
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.inner.scopes()
    }

    /// The key's scopes separated by spaces, as OAuth writes a `scope`.
    ///
    /// ```
    /// # use secure_api::ApiKeyIdentity;
    /// fn scope(key: &ApiKeyIdentity) -> String { key.scope().to_owned() }
    /// ```
    pub fn scope(&self) -> &str {
        &self.inner.scope
    }

    /// Whether the key has `scope`.
    ///
    /// ```
    /// # use secure_api::ApiKeyIdentity;
    /// fn can_write(key: &ApiKeyIdentity) -> bool { key.has_scope("read:write") }
    /// ```
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes().any(|granted| granted == scope)
    }

    /// A short, non-secret name of the key for logs ([`KeyDigest::key_id`]).
    ///
    /// ```
    /// # use secure_api::ApiKeyIdentity;
    /// fn log_line(key: &ApiKeyIdentity) -> String { format!("key {}", key.key_id()) }
    /// ```
    pub fn key_id(&self) -> String {
        self.inner.digest.key_id()
    }
}

/// Verifies API keys for a service: the hasher with the service's secret and the
/// store. Add it to the request data; every API-key guard finds it there.
///
/// ```
/// use secure_api::apikey::{ApiKeyHasher, ApiKeyRecord, ApiKeys, InMemoryApiKeyStore};
///
/// let hasher = ApiKeyHasher::new(&[7u8; 32]).unwrap(); // from your configuration
/// let store = InMemoryApiKeyStore::new();
/// store.insert(ApiKeyRecord::new(hasher.digest("valid_api_key_1"), "service1", ["read"]));
/// let keys = ApiKeys::new(hasher, store);
/// let app = secure_api::App::new(secure_api::poem::Route::new()).data(keys);
/// ```
#[derive(Clone)]
pub struct ApiKeys {
    hasher: ApiKeyHasher,
    store: SharedApiKeyStore,
}

impl fmt::Debug for ApiKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKeys").finish_non_exhaustive()
    }
}

/// Longer than any key worth hashing: refused before the store is asked.
const MAX_KEY_LEN: usize = 256;

impl ApiKeys {
    /// Keys hashed by `hasher`, kept in `store`.
    ///
    /// ```
    /// # use secure_api::apikey::{ApiKeyHasher, ApiKeys, InMemoryApiKeyStore};
    /// let keys = ApiKeys::new(ApiKeyHasher::random().unwrap(), InMemoryApiKeyStore::new());
    /// ```
    pub fn new(hasher: ApiKeyHasher, store: impl ApiKeyStore) -> Self {
        ApiKeys {
            hasher,
            store: SharedApiKeyStore::new(store),
        }
    }

    /// The hasher, to store new keys' digests.
    ///
    /// ```
    /// # use secure_api::apikey::{ApiKeyHasher, ApiKeys, InMemoryApiKeyStore};
    /// let keys = ApiKeys::new(ApiKeyHasher::random().unwrap(), InMemoryApiKeyStore::new());
    /// let digest = keys.hasher().digest("sk_live_...");
    /// ```
    pub fn hasher(&self) -> &ApiKeyHasher {
        &self.hasher
    }

    /// Checks a request's API key against `requirement`: the whole guard, for use in
    /// any poem handler.
    ///
    /// ```
    /// use secure_api::apikey::{ApiKeyRequirement, ApiKeys, StandardApiKeys};
    /// use secure_api::poem::{self, Request, Result, handler, web::Data};
    ///
    /// const READ: ApiKeyRequirement = ApiKeyRequirement::of::<StandardApiKeys>().scope("read");
    ///
    /// #[handler]
    /// async fn report(req: &Request, keys: Data<&ApiKeys>) -> Result<String> {
    ///     let key = keys.authenticate(req, READ).await?;
    ///     Ok(format!("report for {}", key.owner()))
    /// }
    /// ```
    pub async fn authenticate(
        &self,
        request: &Request,
        requirement: ApiKeyRequirement,
    ) -> Result<ApiKeyIdentity, ApiKeyRejection> {
        let result = self.check(request, requirement).await;
        if let Err(rejection) = &result {
            crate::guard::log_refusal(request, "API key", rejection);
        }
        result
    }

    async fn check(
        &self,
        request: &Request,
        requirement: ApiKeyRequirement,
    ) -> Result<ApiKeyIdentity, ApiKeyRejection> {
        let key = presented_key(request, &requirement)?;
        let digest = self.hasher.digest(&key);
        let record = match self.store.find_key(&digest).await {
            Ok(Some(record)) => record,
            Ok(None) => return Err(ApiKeyRejection::Unknown),
            Err(error) => return Err(ApiKeyRejection::StoreUnavailable(error.to_string())),
        };
        let identity = ApiKeyIdentity {
            inner: Arc::new(record),
        };
        // A known key names the caller, whether or not its scope suffices (403).
        crate::request_log::record_principal(request, identity.owner());
        if let Some(scope) = requirement.scope
            && !identity.has_scope(scope)
        {
            return Err(ApiKeyRejection::InsufficientScope {
                key_id: identity.key_id(),
            });
        }
        Ok(identity)
    }
}

/// The one key the request presents, wherever `requirement` allows it: borrowed from
/// the request where it can be (a header, a cookie), since this runs on every request
/// with a key.
fn presented_key<'r>(
    request: &'r Request,
    requirement: &ApiKeyRequirement,
) -> Result<Cow<'r, str>, ApiKeyRejection> {
    let mut presented = Presented::default();
    if let Some(name) = requirement.header {
        for value in request.headers().get_all(name) {
            let value = value.to_str().map_err(|_| ApiKeyRejection::Malformed)?;
            presented.add(Cow::Borrowed(value.trim()));
        }
    }
    if let Some(name) = requirement.query
        && request.uri().query().is_some()
    {
        let params: Vec<(String, String)> =
            request.params().map_err(|_| ApiKeyRejection::Malformed)?;
        for (param, value) in params {
            if param == name {
                presented.add(Cow::Owned(value));
            }
        }
    }
    if let Some(name) = requirement.cookie {
        for value in request.headers().get_all(header::COOKIE) {
            let value = value.to_str().map_err(|_| ApiKeyRejection::Malformed)?;
            for pair in value.split(';') {
                if let Some((cookie, value)) = pair.trim().split_once('=')
                    && cookie == name
                {
                    let value = value.strip_prefix('"').unwrap_or(value);
                    presented.add(Cow::Borrowed(value.strip_suffix('"').unwrap_or(value)));
                }
            }
        }
    }
    // A place that cannot be read (not text, a bad query string) was refused above,
    // before any disagreement between places, as it always was.
    if presented.ambiguous {
        return Err(ApiKeyRejection::Ambiguous);
    }
    let key = presented.key.ok_or(ApiKeyRejection::Missing)?;
    if key.is_empty() {
        return Err(ApiKeyRejection::Missing);
    }
    if key.len() > MAX_KEY_LEN {
        return Err(ApiKeyRejection::Malformed);
    }
    Ok(key)
}

/// The keys found so far: the first one, and whether another one differed from it.
#[derive(Default)]
struct Presented<'r> {
    key: Option<Cow<'r, str>>,
    ambiguous: bool,
}

impl<'r> Presented<'r> {
    fn add(&mut self, value: Cow<'r, str>) {
        match &self.key {
            Some(key) => self.ambiguous |= *key != value,
            None => self.key = Some(value),
        }
    }
}
