//! The mutual-TLS part of an operation: a flag in its policy, which the chain checks
//! first. The `ClientCert` parameter, if any, stays the user's: poem extracts it.

use super::Contribution;
use crate::api::ast::Operation;
use quote::quote;

pub(crate) fn contribution(operation: &Operation) -> Contribution {
    if !operation.client_cert.is_used() {
        return Contribution::default();
    }
    Contribution {
        policy_items: vec![quote! { const CLIENT_CERT: bool = true; }],
        ..Contribution::default()
    }
}
