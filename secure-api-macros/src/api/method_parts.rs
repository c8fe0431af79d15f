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

/// The value of `key = ...` in the method's `#[oai(...)]`, read as `T`; every other
/// argument of poem-openapi's (flags, `key = value`, `key(...)`) is skipped.
pub(crate) fn oai_value<T: syn::parse::Parse>(method: &ImplItemFn, key: &str) -> Option<T> {
    let mut found = None;
    for attr in method
        .attrs
        .iter()
        .filter(|attr| attr.path().is_ident("oai"))
    {
        let _ = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident(key) {
                found = meta.value()?.parse::<T>().ok();
            } else if meta.input.peek(syn::Token![=]) {
                meta.value()?.parse::<Expr>()?;
            } else if meta.input.peek(syn::token::Paren) {
                let _skip;
                syn::parenthesized!(_skip in meta.input);
            }
            Ok(())
        });
    }
    found
}

/// The operation's path as written, when poem-openapi would document it otherwise:
/// it drops a trailing slash (`/users/me/` becomes `/users/me`). Path variables are
/// spelt as poem-openapi documents them (`/users/:id/` is `/users/{id}/`).
pub(crate) fn path_spelt_with_trailing_slash(method: &ImplItemFn) -> Option<String> {
    let path = oai_value::<LitStr>(method, "path")?.value();
    if path.len() <= 1 || !path.ends_with('/') {
        return None;
    }
    let segments = path.split('/').filter(|segment| !segment.is_empty());
    let documented: String = segments
        .map(|segment| match segment.strip_prefix(':') {
            Some(variable) => format!("/{{{variable}}}"),
            None => format!("/{segment}"),
        })
        .collect();
    Some(documented + "/")
}
