//! The body part of an operation with a `ValidJson` parameter: its policy says so,
//! and `Guarded` then documents the answers a refused body gets (400, 413, 415 and
//! 422 with their problem schemas). The body itself is read by `ValidJson`, after
//! every guard of the chain.

use super::Contribution;
use crate::api::ast::Operation;
use quote::quote;

pub(crate) fn contribution(operation: &Operation) -> Contribution {
    if !operation.validated_body {
        return Contribution::default();
    }
    Contribution {
        policy_items: vec![quote!(
            const VALIDATED_BODY: bool = true;
        )],
        ..Contribution::default()
    }
}
