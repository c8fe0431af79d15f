//! The bearer-token guard: RFC 6750 parsing and challenges, token verification, the
//! subject check against the user store, and the scope check.

use crate::{
    Principal,
    guard::{AnyValidToken, OperationPolicy},
    problem::Problem,
    scope::{Requirement, Scopes},
    token::{JwtText, TokenRejection, TokenService},
    users::{SharedUserStore, UserStore},
};
use poem::{
    Request, RequestBody, Response,
    error::ResponseError,
    http::{StatusCode, header},
};
use poem_openapi::{
    ApiExtractor, ApiExtractorType, ExtractParamOptions,
    registry::{MetaOAuthFlow, MetaOAuthFlows, MetaOAuthScope, MetaSecurityScheme, Registry},
};
use std::{fmt, marker::PhantomData, sync::Arc};

/// Verifies bearer tokens for a service: the token service that signed them and the
/// user store that says whether their subject still exists and is enabled.
///
/// Add it to the app as request data (`.data(authenticator)`); every guard of the
/// service finds it there.
///
/// ```
/// use secure_api::{Authenticator, token::{SigningKey, TokenService}, users::InMemoryUserStore};
///
/// let tokens = TokenService::builder()
///     .issuer("https://api.example.com")
///     .audience("https://api.example.com")
///     .signing_key(SigningKey::hs256("main", &[7u8; 32]).unwrap())
///     .build()
///     .unwrap();
/// let auth = Authenticator::new(tokens, InMemoryUserStore::new());
/// let app = secure_api::poem::Route::new(); // your routes
/// let app = secure_api::poem::EndpointExt::data(app, auth);
/// ```
#[derive(Clone)]
pub struct Authenticator {
    inner: Arc<Inner>,
}

struct Inner {
    tokens: TokenService,
    users: SharedUserStore,
    realm: Option<String>,
}

impl fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authenticator")
            .field("tokens", &self.inner.tokens)
            .field("realm", &self.inner.realm)
            .finish_non_exhaustive()
    }
}

impl Authenticator {
    /// An authenticator over a token service and a user store.
    ///
    /// ```
    /// # use secure_api::{Authenticator, token::{SigningKey, TokenService}, users::InMemoryUserStore};
    /// # let tokens = TokenService::builder().issuer("i").audience("a")
    /// #     .signing_key(SigningKey::hs256("k", &[1u8; 32]).unwrap()).build().unwrap();
    /// let auth = Authenticator::new(tokens, InMemoryUserStore::new());
    /// ```
    pub fn new(tokens: TokenService, users: impl UserStore) -> Self {
        Self::with_shared_store(tokens, SharedUserStore::new(users))
    }

    /// An authenticator over a store already shared with other parts of the service.
    ///
    /// ```
    /// # use secure_api::{Authenticator, token::{SigningKey, TokenService}, users::{InMemoryUserStore, SharedUserStore}};
    /// # let tokens = TokenService::builder().issuer("i").audience("a")
    /// #     .signing_key(SigningKey::hs256("k", &[1u8; 32]).unwrap()).build().unwrap();
    /// let users = SharedUserStore::new(InMemoryUserStore::new());
    /// let auth = Authenticator::with_shared_store(tokens, users.clone());
    /// ```
    pub fn with_shared_store(tokens: TokenService, users: SharedUserStore) -> Self {
        Authenticator {
            inner: Arc::new(Inner {
                tokens,
                users,
                realm: None,
            }),
        }
    }

    /// Adds `realm="..."` to every `WWW-Authenticate` challenge (RFC 6750 §3).
    /// Quotes and backslashes are removed, since the header cannot carry them unescaped.
    ///
    /// ```
    /// # use secure_api::{Authenticator, token::{SigningKey, TokenService}, users::InMemoryUserStore};
    /// # let tokens = TokenService::builder().issuer("i").audience("a")
    /// #     .signing_key(SigningKey::hs256("k", &[1u8; 32]).unwrap()).build().unwrap();
    /// let auth = Authenticator::new(tokens, InMemoryUserStore::new()).realm("api");
    /// ```
    pub fn realm(self, realm: &str) -> Self {
        let realm = realm.chars().filter(|c| *c != '"' && *c != '\\').collect();
        let inner = Inner {
            tokens: self.inner.tokens.clone(),
            users: self.inner.users.clone(),
            realm: Some(realm),
        };
        Authenticator {
            inner: Arc::new(inner),
        }
    }

    /// The token service, to issue tokens.
    ///
    /// ```
    /// # use secure_api::{Authenticator, token::{SigningKey, TokenService}, users::InMemoryUserStore};
    /// # let tokens = TokenService::builder().issuer("i").audience("a")
    /// #     .signing_key(SigningKey::hs256("k", &[1u8; 32]).unwrap()).build().unwrap();
    /// let auth = Authenticator::new(tokens, InMemoryUserStore::new());
    /// let token = auth.tokens().issue("alice", &["users:read"]).unwrap();
    /// ```
    pub fn tokens(&self) -> &TokenService {
        &self.inner.tokens
    }

    /// The user store.
    ///
    /// ```
    /// # use secure_api::{Authenticator, token::{SigningKey, TokenService}, users::InMemoryUserStore};
    /// # let tokens = TokenService::builder().issuer("i").audience("a")
    /// #     .signing_key(SigningKey::hs256("k", &[1u8; 32]).unwrap()).build().unwrap();
    /// let auth = Authenticator::new(tokens, InMemoryUserStore::new());
    /// let users = auth.users().clone();
    /// ```
    pub fn users(&self) -> &SharedUserStore {
        &self.inner.users
    }

    /// Checks a request's bearer token against `requirement`: the whole guard, for
    /// use in any poem handler.
    ///
    /// ```
    /// use secure_api::{Authenticator, Requirement};
    /// use secure_api::poem::{Request, Result, handler, web::Data};
    ///
    /// #[handler]
    /// async fn admin_only(req: &Request, auth: Data<&Authenticator>) -> Result<String> {
    ///     let who = auth.authenticate(req, Requirement::all_of(&["admin"])).await?;
    ///     Ok(format!("hello {}", who.subject()))
    /// }
    /// ```
    pub async fn authenticate(
        &self,
        request: &Request,
        requirement: Requirement,
    ) -> Result<Principal, AuthRejection> {
        let result = self.check(request, requirement).await;
        if let Err(rejection) = &result {
            super::log_refusal(request, "bearer authentication", rejection);
        }
        result.map_err(|kind| AuthRejection {
            kind,
            realm: self.inner.realm.clone(),
        })
    }

    async fn check(&self, request: &Request, requirement: Requirement) -> Result<Principal, Kind> {
        let tokens = &self.inner.tokens;
        let claims = match bearer_token(request)? {
            Bearer::Jwt(token) => tokens.verify_text(token),
            Bearer::Other(token) => tokens.verify(token),
        }
        .map_err(Kind::InvalidToken)?;
        let user = match self.inner.users.find_user(&claims.sub).await {
            Ok(Some(user)) if !user.disabled => user,
            Ok(Some(_)) => return Err(Kind::SubjectDisabled),
            Ok(None) => return Err(Kind::SubjectUnknown),
            Err(error) => return Err(Kind::StoreUnavailable(error.to_string())),
        };
        // A valid token names the caller, whether or not its scopes suffice (403).
        crate::request_log::record_principal(request, &claims.sub);
        if !requirement.is_met_by(claims.scopes()) {
            let required = requirement.closest_alternative(claims.scopes());
            return Err(Kind::InsufficientScope(required));
        }
        Ok(Principal::verified(claims, Some(user)))
    }
}

/// RFC 6750's `b64token` characters (before the trailing `=`), as a table indexed by
/// byte: a token is hundreds of bytes, read on every request.
const B64TOKEN: [bool; 256] = crate::token::byte_table(b"-._~+/");

/// The token of a request: already known to be made of a JWT's bytes, or any other
/// `b64token` (which verification then refuses, as `invalid_token`).
enum Bearer<'a> {
    Jwt(JwtText<'a>),
    Other(&'a str),
}

/// The token of `Authorization: Bearer <token>` (RFC 6750 §2.1).
fn bearer_token(request: &Request) -> Result<Bearer<'_>, Kind> {
    let mut values = request.headers().get_all(header::AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Err(Kind::Missing);
    };
    if values.next().is_some() {
        return Err(Kind::MalformedHeader("more than one Authorization header"));
    }
    // The common case, with the token's bytes read once: `Bearer <JWT>`, one space.
    if let Some(token) = value
        .as_bytes()
        .split_at_checked(BEARER_PREFIX.len())
        .filter(|(prefix, _)| prefix.eq_ignore_ascii_case(BEARER_PREFIX))
        .and_then(|(_, token)| JwtText::new(token))
    {
        return Ok(Bearer::Jwt(token));
    }
    let value = value
        .to_str()
        .map_err(|_| Kind::MalformedHeader("Authorization is not visible ASCII"))?;
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        // Another scheme (Basic, ...) carries no bearer credentials at all, which
        // RFC 6750 §3.1 answers with a bare challenge.
        return Err(Kind::Missing);
    }
    let token = rest.trim_start_matches(' ');
    if token.is_empty() {
        return Err(Kind::MalformedHeader("Bearer without a token"));
    }
    let is_b64token = token
        .trim_end_matches('=')
        .bytes()
        .fold(true, |valid, b| valid & B64TOKEN[usize::from(b)]);
    if !is_b64token {
        return Err(Kind::MalformedHeader("the token is not a b64token"));
    }
    Ok(Bearer::Other(token))
}

const BEARER_PREFIX: &[u8] = b"bearer ";

/// Why a request was refused. Its answer follows RFC 6750 §3; the reason itself
/// (`Display`) is for the server's log and never sent.
#[derive(Debug, Clone)]
pub struct AuthRejection {
    kind: Kind,
    realm: Option<String>,
}

#[derive(Debug, Clone)]
enum Kind {
    Missing,
    MalformedHeader(&'static str),
    InvalidToken(TokenRejection),
    SubjectUnknown,
    SubjectDisabled,
    InsufficientScope(&'static [&'static str]),
    StoreUnavailable(String),
    NotConfigured,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Kind::Missing => f.write_str("no bearer token"),
            Kind::MalformedHeader(why) => write!(f, "malformed Authorization header: {why}"),
            Kind::InvalidToken(why) => write!(f, "invalid token: {why}"),
            Kind::SubjectUnknown => f.write_str("the token's subject is not a known user"),
            Kind::SubjectDisabled => f.write_str("the token's subject is disabled"),
            Kind::InsufficientScope(required) => {
                write!(f, "insufficient scope, required: {}", required.join(" "))
            }
            Kind::StoreUnavailable(why) => write!(f, "user store unavailable: {why}"),
            Kind::NotConfigured => f.write_str(
                "no Authenticator in the request data: add `.data(authenticator)` to the app",
            ),
        }
    }
}

impl fmt::Display for AuthRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.kind.fmt(f)
    }
}

impl std::error::Error for AuthRejection {}

impl AuthRejection {
    /// The `WWW-Authenticate` challenge, or `None` for answers that are not about
    /// credentials (503, 500).
    fn challenge(&self) -> Option<String> {
        let mut params = Vec::new();
        if let Some(realm) = &self.realm {
            params.push(format!("realm=\"{realm}\""));
        }
        match &self.kind {
            Kind::Missing => {}
            Kind::MalformedHeader(_) => params.push("error=\"invalid_request\"".to_owned()),
            Kind::InvalidToken(_) | Kind::SubjectUnknown | Kind::SubjectDisabled => {
                params.push("error=\"invalid_token\"".to_owned())
            }
            Kind::InsufficientScope(required) => {
                params.push("error=\"insufficient_scope\"".to_owned());
                params.push(format!("scope=\"{}\"", required.join(" ")));
            }
            Kind::StoreUnavailable(_) | Kind::NotConfigured => return None,
        }
        Some(match params.is_empty() {
            true => "Bearer".to_owned(),
            false => format!("Bearer {}", params.join(", ")),
        })
    }

    fn detail(&self) -> &'static str {
        match &self.kind {
            Kind::Missing => "this operation needs a bearer token",
            Kind::MalformedHeader(_) => "the Authorization header is not `Bearer <token>`",
            Kind::InvalidToken(_) | Kind::SubjectUnknown | Kind::SubjectDisabled => {
                "the access token is invalid or expired"
            }
            Kind::InsufficientScope(_) => "the access token lacks a required scope",
            Kind::StoreUnavailable(_) => "the user store is unavailable; try again later",
            Kind::NotConfigured => "the service is misconfigured",
        }
    }
}

impl ResponseError for AuthRejection {
    fn status(&self) -> StatusCode {
        match &self.kind {
            // RFC 6750 suggests 400 for invalid_request; 401 keeps every credential
            // problem on one status, which clients already handle by re-authenticating.
            Kind::Missing
            | Kind::MalformedHeader(_)
            | Kind::InvalidToken(_)
            | Kind::SubjectUnknown
            | Kind::SubjectDisabled => StatusCode::UNAUTHORIZED,
            Kind::InsufficientScope(_) => StatusCode::FORBIDDEN,
            Kind::StoreUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Kind::NotConfigured => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn as_response(&self) -> Response {
        let mut problem = Problem::new(self.status()).detail(self.detail());
        if let Some(challenge) = self.challenge() {
            problem = problem.header(header::WWW_AUTHENTICATE, challenge);
        }
        if matches!(self.kind, Kind::StoreUnavailable(_)) {
            problem = problem.header(header::RETRY_AFTER, "1");
        }
        poem::IntoResponse::into_response(problem)
    }
}

/// The guard as a poem-openapi parameter: verifies the bearer token, checks the
/// subject and the bearer requirement of `P` (any valid token when `P` has none), and
/// documents the OAuth2 scheme of `S`.
///
/// Put it first among an operation's parameters so it runs before the body is read
/// (see [the order of checks](crate::guard)). `#[requires_scopes]` generates it.
pub struct Authorized<S: Scopes, P: OperationPolicy = AnyValidToken> {
    principal: Principal,
    _marker: PhantomData<fn() -> (S, P)>,
}

impl<S: Scopes, P: OperationPolicy> Authorized<S, P> {
    /// The verified caller.
    ///
    /// ```
    /// # use secure_api::{Authorized, Scopes};
    /// # #[derive(Scopes)] enum Scope { #[scope("a", "A")] A }
    /// fn subject(auth: &Authorized<Scope>) -> &str { auth.principal().subject() }
    /// ```
    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    /// The verified caller, by value.
    ///
    /// ```
    /// # use secure_api::{Authorized, Principal, Scopes};
    /// # #[derive(Scopes)] enum Scope { #[scope("a", "A")] A }
    /// fn take(auth: Authorized<Scope>) -> Principal { auth.into_principal() }
    /// ```
    pub fn into_principal(self) -> Principal {
        self.principal
    }
}

impl<S: Scopes, P: OperationPolicy> fmt::Debug for Authorized<S, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Authorized").field(&self.principal).finish()
    }
}

/// Registers `S`'s OAuth2 password flow in the document.
pub(crate) fn register_scheme<S: Scopes>(registry: &mut Registry) {
    let scopes = S::ALL
        .iter()
        .map(|scope| MetaOAuthScope {
            name: scope.name,
            description: Some(scope.description),
        })
        .collect();
    registry.create_security_scheme(
        S::SCHEME_NAME,
        MetaSecurityScheme {
            ty: "oauth2",
            description: Some(
                "OAuth2 password flow: post `username` and `password` to the token URL, \
                 then send `Authorization: Bearer <access_token>`.",
            ),
            name: None,
            key_in: None,
            scheme: None,
            bearer_format: None,
            flows: Some(MetaOAuthFlows {
                implicit: None,
                password: Some(MetaOAuthFlow {
                    authorization_url: None,
                    token_url: Some(S::TOKEN_URL),
                    refresh_url: None,
                    scopes,
                }),
                client_credentials: None,
                authorization_code: None,
            }),
            openid_connect_url: None,
        },
    );
}

impl<'a, S: Scopes, P: OperationPolicy> ApiExtractor<'a> for Authorized<S, P> {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::SecurityScheme];

    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        register_scheme::<S>(registry);
    }

    fn security_schemes() -> Vec<&'static str> {
        vec![S::SCHEME_NAME]
    }

    async fn from_request(
        request: &'a Request,
        _body: &mut RequestBody,
        _param_opts: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        // Behind a `GuardChain` the work is done: the chain verified the token for
        // this very requirement before the operation started.
        let verified = request.extensions().get::<VerifiedPrincipal>();
        let principal = match verified {
            Some(verified) if verified.requirement == requirement::<P>() => {
                verified.principal.clone()
            }
            _ => {
                authenticator(request)?
                    .authenticate(request, requirement::<P>())
                    .await?
            }
        };
        Ok(Authorized {
            principal,
            _marker: PhantomData,
        })
    }
}

fn requirement<P: OperationPolicy>() -> Requirement {
    P::BEARER.unwrap_or(Requirement::AUTHENTICATED)
}

/// A principal verified by a [`GuardChain`](super::GuardChain), with the requirement
/// it met. Private, so no other middleware can plant one.
#[derive(Clone)]
pub(crate) struct VerifiedPrincipal {
    principal: Principal,
    requirement: Requirement,
}

impl VerifiedPrincipal {
    pub(crate) fn new(principal: Principal, requirement: Requirement) -> Self {
        VerifiedPrincipal {
            principal,
            requirement,
        }
    }
}

/// The service's [`Authenticator`], from the request data.
pub(crate) fn authenticator(request: &Request) -> Result<&Authenticator, AuthRejection> {
    request.data::<Authenticator>().ok_or_else(|| {
        tracing::error!("{}", Kind::NotConfigured);
        AuthRejection {
            kind: Kind::NotConfigured,
            realm: None,
        }
    })
}
