//! Small readers shared by the features' parsers: our attributes on a method, special
//! parameter types, and `name = "string"` arguments.

use syn::{Attribute, Expr, ExprLit, ImplItemFn, Lit, LitStr, Meta, MetaNameValue, Type};

/// Removes the attributes named `name` (by their last path segment) from `method`.
pub(crate) fn take_attrs(method: &mut ImplItemFn, name: &str) -> Vec<Attribute> {
    let (taken, kept): (Vec<Attribute>, Vec<Attribute>) = std::mem::take(&mut method.attrs)
        .into_iter()
        .partition(|attr| {
            attr.path()
                .segments
                .last()
                .is_some_and(|segment| segment.ident == name)
        });
    method.attrs = kept;
    taken
}

/// Whether `ty` is the type `name` (`Name`, `path::to::Name`, in parentheses or not).
pub(crate) fn is_type_named(ty: &Type, name: &str) -> bool {
    match ty {
        Type::Path(path) if path.qself.is_none() => path
            .path
            .segments
            .last()
            .is_some_and(|s| s.ident == name && s.arguments.is_none()),
        Type::Paren(inner) => is_type_named(&inner.elem, name),
        Type::Group(inner) => is_type_named(&inner.elem, name),
        _ => false,
    }
}

/// The string of `name = "..."`, when `meta` is that.
pub(crate) fn string_arg<'a>(meta: &'a Meta, name: &str) -> Option<&'a LitStr> {
    match meta {
        Meta::NameValue(MetaNameValue {
            path,
            value: Expr::Lit(ExprLit {
                lit: Lit::Str(lit), ..
            }),
            ..
        }) if path.is_ident(name) => Some(lit),
        _ => None,
    }
}
