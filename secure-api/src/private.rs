//! What the macros' generated code calls. Not a public API: it changes with the macros.

pub use crate::response::Guarded;
pub use crate::scope::ScopeName;
pub use poem_openapi;

/// What `#[derive(Validate)]` calls.
pub mod validation {
    pub use crate::validation::runtime::*;
}

use crate::{guard::register_scheme, scope::Scopes};
use poem::{Request, RequestBody};
use poem_openapi::{ApiExtractor, ApiExtractorType, ExtractParamOptions, registry::Registry};
use std::marker::PhantomData;

/// Compile-time check behind "this scope is not declared".
pub const fn scope_is_declared<S: Scopes>(name: &str) -> bool {
    crate::scope::is_declared_const::<S>(name)
}

/// A parameter that only documents one more alternative of an any-of requirement
/// (one more entry in the operation's `security`); [`crate::Authorized`] enforces.
pub struct AlternativeScopes<S>(PhantomData<fn() -> S>);

impl<'a, S: Scopes> ApiExtractor<'a> for AlternativeScopes<S> {
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
        _request: &'a Request,
        _body: &mut RequestBody,
        _param_opts: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        Ok(AlternativeScopes(PhantomData))
    }
}
