//! API versions: `version(N, ...)` and `version_prefix = "..."` on the impl, and
//! `#[api_version(N, ...)]` on operations.
//!
//! Versions are resolved before anything else looks at the impl: each versioned
//! method becomes one method per version (renamed `name_vN` when there are several),
//! whose `#[oai(...)]` gets the versioned path, a version tag, `deprecated` when the
//! version is, and a per-version `operation_id`. What remains for the guard chain (the
//! lifecycle headers, 410) is a [`VersionUse`] per resulting method.

use super::method_parts::{oai_value, string_arg, take_attrs};
use crate::ctxt::Ctxt;
use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote};
use std::collections::HashMap;
use syn::{
    Attribute, Expr, ExprLit, ImplItem, ImplItemFn, ItemImpl, Lit, LitInt, LitStr, Meta, Token,
    parse::Parser, punctuated::Punctuated,
};

pub(crate) const DEFAULT_PREFIX: &str = "/api/v{version}";

/// `version(N, deprecated = "...", sunset = "...", policy = "...", gone_after_sunset)`.
pub(crate) struct VersionDecl {
    pub(crate) version: u32,
    written: TokenStream,
    deprecated: Option<Date>,
    sunset: Option<Date>,
    policy: Option<String>,
    gone_after_sunset: bool,
}

impl VersionDecl {
    fn is_deprecated(&self) -> bool {
        self.deprecated.is_some() || self.sunset.is_some()
    }
}

/// A UTC instant written as `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM:SSZ`.
#[derive(Clone)]
struct Date {
    unix: i64,
    day: String,
}

/// One versioned operation, as the chain needs it.
pub(crate) struct VersionUse {
    pub(crate) version: u32,
    /// `/api/v1`: the prefix this operation is served under.
    pub(crate) prefix: String,
    /// The prefix of the next version that serves the same path and method, when this
    /// version is deprecated.
    pub(crate) successor: Option<String>,
    pub(crate) deprecated_at: Option<i64>,
    pub(crate) sunset_at: Option<i64>,
    pub(crate) gone_after_sunset: bool,
    pub(crate) policy: Option<String>,
    /// The `vN` tag and its description.
    pub(crate) tag: String,
    pub(crate) tag_description: String,
}

/// Parses `version(...)` from the impl's arguments.
pub(crate) fn parse_decl(meta: &Meta, cx: &mut Ctxt) -> Option<VersionDecl> {
    let Meta::List(list) = meta else {
        cx.error_spanned_by(
            meta,
            "declare a version's lifecycle as version(1, deprecated = \"2026-01-01\", \
             sunset = \"2026-12-31\")",
        );
        return None;
    };
    let written = meta.to_token_stream();
    let items = match Punctuated::<Expr, Token![,]>::parse_terminated.parse2(list.tokens.clone()) {
        Ok(items) => items,
        Err(error) => {
            cx.syn_error(error);
            return None;
        }
    };
    let mut items = items.into_iter();
    let version = match items.next() {
        Some(Expr::Lit(ExprLit {
            lit: Lit::Int(lit), ..
        })) => version_number(&lit, cx)?,
        Some(other) => {
            cx.error_spanned_by(other, "the version number comes first: version(1, ...)");
            return None;
        }
        None => {
            cx.error_spanned_by(meta, "the version number comes first: version(1, ...)");
            return None;
        }
    };
    let mut decl = VersionDecl {
        version,
        written,
        deprecated: None,
        sunset: None,
        policy: None,
        gone_after_sunset: false,
    };
    for item in items {
        match &item {
            Expr::Path(path) if path.path.is_ident("gone_after_sunset") => {
                decl.gone_after_sunset = true;
            }
            Expr::Assign(assign) => {
                let Expr::Path(key) = &*assign.left else {
                    cx.error_spanned_by(&assign.left, UNKNOWN_KEY);
                    continue;
                };
                let Expr::Lit(ExprLit {
                    lit: Lit::Str(value),
                    ..
                }) = &*assign.right
                else {
                    cx.error_spanned_by(&assign.right, "expected a string");
                    continue;
                };
                let key = key.path.get_ident().map(ToString::to_string);
                match key.as_deref() {
                    Some("deprecated") => decl.deprecated = parse_date(value, cx),
                    Some("sunset") => decl.sunset = parse_date(value, cx),
                    Some("policy") => decl.policy = parse_policy(value, cx),
                    _ => cx.error_spanned_by(&assign.left, UNKNOWN_KEY),
                }
            }
            other => cx.error_spanned_by(other, UNKNOWN_KEY),
        }
    }
    if let (Some(deprecated), Some(sunset)) = (&decl.deprecated, &decl.sunset)
        && sunset.unix < deprecated.unix
    {
        cx.error_spanned_by(
            &decl.written,
            format!(
                "version {version}'s sunset ({}) is before its deprecation ({}); RFC 9745 \
                 requires the sunset to come no earlier",
                sunset.day, deprecated.day
            ),
        );
    }
    if decl.gone_after_sunset && decl.sunset.is_none() {
        cx.error_spanned_by(
            &decl.written,
            format!(
                "`gone_after_sunset` needs a sunset date: version({version}, sunset = \
                 \"2026-12-31\", gone_after_sunset)"
            ),
        );
    }
    Some(decl)
}

const UNKNOWN_KEY: &str = "expected `deprecated = \"YYYY-MM-DD\"`, `sunset = \"YYYY-MM-DD\"`, \
                           `policy = \"https://...\"` or `gone_after_sunset`";

/// Parses `version_prefix = "/api/v{version}"`.
pub(crate) fn parse_prefix(meta: &Meta, cx: &mut Ctxt) -> Option<LitStr> {
    let Some(lit) = string_arg(meta, "version_prefix") else {
        cx.error_spanned_by(meta, "expected version_prefix = \"/api/v{version}\"");
        return None;
    };
    let value = lit.value();
    let valid = value.starts_with('/')
        && value.matches("{version}").count() == 1
        && !value.ends_with('/')
        && !value.contains(|c: char| c.is_whitespace() || c == '?' || c == '#');
    if !valid {
        cx.error_spanned_by(
            lit,
            "the version prefix is a path that starts with `/`, does not end with one, and \
             holds `{version}` once, e.g. \"/api/v{version}\"",
        );
        return None;
    }
    Some(lit.clone())
}

fn version_number(lit: &LitInt, cx: &mut Ctxt) -> Option<u32> {
    match lit.base10_parse::<u32>() {
        Ok(0) => {
            cx.error_spanned_by(lit, "API versions start at 1");
            None
        }
        Ok(version) => Some(version),
        Err(_) => {
            cx.error_spanned_by(lit, "a version is a whole number, e.g. 2");
            None
        }
    }
}

fn parse_policy(lit: &LitStr, cx: &mut Ctxt) -> Option<String> {
    let value = lit.value();
    let valid =
        (value.starts_with("https://") || value.starts_with("http://") || value.starts_with('/'))
            && !value.contains(|c: char| c.is_whitespace() || c.is_control() || "<>\"".contains(c));
    if !valid {
        cx.error_spanned_by(
            lit,
            "the deprecation policy is a URL (https://...) or a path (/docs/...) without \
             spaces, quotes or angle brackets",
        );
        return None;
    }
    Some(value)
}

fn parse_date(lit: &LitStr, cx: &mut Ctxt) -> Option<Date> {
    match date(&lit.value()) {
        Some(date) => Some(date),
        None => {
            cx.error_spanned_by(
                lit,
                format!(
                    "`{}` is not a date; write YYYY-MM-DD (midnight UTC) or \
                     YYYY-MM-DDTHH:MM:SSZ, e.g. \"2026-12-31\" or \"2026-12-31T23:59:59Z\"",
                    lit.value()
                ),
            );
            None
        }
    }
}

fn date(text: &str) -> Option<Date> {
    let number = |s: &str| -> Option<i64> {
        s.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| s.parse().ok())
            .flatten()
    };
    let (day, time) = match text.split_once('T') {
        Some((day, time)) => (day, Some(time.strip_suffix('Z')?)),
        None => (text, None),
    };
    let mut parts = day.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let (year, month, dom) = (number(y)?, number(m)?, number(d)?);
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if year < 1970 || !(1..=days_in_month).contains(&dom) {
        return None;
    }
    let seconds = match time {
        None => 0,
        Some(time) => {
            let mut parts = time.split(':');
            let (h, mi, s) = (parts.next()?, parts.next()?, parts.next()?);
            if parts.next().is_some() || h.len() != 2 || mi.len() != 2 || s.len() != 2 {
                return None;
            }
            let (h, mi, s) = (number(h)?, number(mi)?, number(s)?);
            if h > 23 || mi > 59 || s > 59 {
                return None;
            }
            h * 3600 + mi * 60 + s
        }
    };
    Some(Date {
        unix: days_from_civil(year, month, dom) * 86_400 + seconds,
        day: day.to_owned(),
    })
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// Checks the newest of the impl's declarations against the others: each version once.
pub(crate) fn check_decls(decls: &[VersionDecl], cx: &mut Ctxt) {
    let Some((newest, earlier)) = decls.split_last() else {
        return;
    };
    if earlier.iter().any(|other| other.version == newest.version) {
        cx.error_spanned_by(
            &newest.written,
            format!(
                "version {} is declared twice; give its lifecycle in one version(...)",
                newest.version
            ),
        );
    }
}

/// A versioned method as written.
struct Versioned {
    index: usize,
    versions: Vec<u32>,
    path: LitStr,
    method: String,
}

/// Resolves every `#[api_version]` of `item` (see the module docs); returns the
/// version of each resulting method, by its index in `item.items`.
pub(crate) fn expand_versions(
    item: &mut ItemImpl,
    prefix: Option<&LitStr>,
    decls: &[VersionDecl],
    cx: &mut Ctxt,
) -> HashMap<usize, VersionUse> {
    let pattern = prefix.map_or_else(|| DEFAULT_PREFIX.to_owned(), LitStr::value);
    let mut versioned = Vec::new();
    for (index, impl_item) in item.items.iter_mut().enumerate() {
        let ImplItem::Fn(method) = impl_item else {
            continue;
        };
        let attrs = take_attrs(method, "api_version");
        let Some(first) = attrs.first() else {
            continue;
        };
        for extra in &attrs[1..] {
            cx.error_spanned_by(
                extra,
                "#[api_version] is given twice; list every version in one attribute: \
                 #[api_version(1, 2)]",
            );
        }
        let Some(versions) = parse_versions(first, cx) else {
            continue;
        };
        let Some((path, http_method)) = oai_path_and_method(method) else {
            cx.error_spanned_by(
                first,
                format!(
                    "#[api_version] only works on an API operation; add #[oai(path = \"...\", \
                     method = \"...\")] to `{}`",
                    method.sig.ident
                ),
            );
            continue;
        };
        versioned.push(Versioned {
            index,
            versions,
            path,
            method: http_method,
        });
    }

    // One operation per path, method and version.
    for (i, op) in versioned.iter().enumerate() {
        for version in &op.versions {
            let clash = versioned[..i].iter().any(|other| {
                other.path.value() == op.path.value()
                    && other.method == op.method
                    && other.versions.contains(version)
            });
            if clash {
                cx.error_spanned_by(
                    &op.path,
                    format!(
                        "{} {} is already an operation of version {version}; each version \
                         serves a path and method once",
                        op.method.to_uppercase(),
                        op.path.value()
                    ),
                );
            }
        }
    }

    let mut uses = HashMap::new();
    let old_items = std::mem::take(&mut item.items);
    for (index, impl_item) in old_items.into_iter().enumerate() {
        let Some(op) = versioned.iter().find(|op| op.index == index) else {
            item.items.push(impl_item);
            continue;
        };
        let ImplItem::Fn(method) = impl_item else {
            unreachable!("versioned items are methods");
        };
        for &version in &op.versions {
            let mut copy = method.clone();
            if op.versions.len() > 1 {
                copy.sig.ident = format_ident!("{}_v{}", method.sig.ident, version);
            }
            let decl = decls.iter().find(|decl| decl.version == version);
            let deprecated = decl.is_some_and(VersionDecl::is_deprecated);
            let successor = match deprecated {
                true => versioned
                    .iter()
                    .filter(|other| {
                        other.path.value() == op.path.value() && other.method == op.method
                    })
                    .flat_map(|other| other.versions.iter().copied())
                    .filter(|&later| later > version)
                    .min()
                    .map(|later| versioned_prefix(&pattern, later)),
                false => None,
            };
            let prefix = versioned_prefix(&pattern, version);
            let tag_type = tag_type(&copy.sig.ident);
            rewrite_oai(
                &mut copy,
                &prefix,
                version,
                deprecated,
                &tag_type.to_string(),
            );
            let tag_description = match decl {
                Some(decl) if decl.is_deprecated() => {
                    let mut text = format!("API version {version}, deprecated");
                    if let Some(date) = &decl.deprecated {
                        text.push_str(&format!(" since {}", date.day));
                    }
                    if let Some(date) = &decl.sunset {
                        text.push_str(&format!("; sunset {}", date.day));
                    }
                    text
                }
                _ => format!("API version {version}"),
            };
            uses.insert(
                item.items.len(),
                VersionUse {
                    version,
                    prefix,
                    successor,
                    deprecated_at: decl.and_then(|d| d.deprecated.as_ref().map(|d| d.unix)),
                    sunset_at: decl.and_then(|d| d.sunset.as_ref().map(|d| d.unix)),
                    gone_after_sunset: decl.is_some_and(|d| d.gone_after_sunset),
                    policy: decl.and_then(|d| d.policy.clone()),
                    tag: format!("v{version}"),
                    tag_description,
                },
            );
            item.items.push(ImplItem::Fn(copy));
        }
    }
    uses
}

/// The type whose value is the operation's version tag.
pub(crate) fn tag_type(ident: &syn::Ident) -> syn::Ident {
    format_ident!("__SecureApiVersionTag_{}", ident)
}

fn versioned_prefix(pattern: &str, version: u32) -> String {
    pattern.replace("{version}", &version.to_string())
}

fn parse_versions(attr: &Attribute, cx: &mut Ctxt) -> Option<Vec<u32>> {
    let Meta::List(list) = &attr.meta else {
        cx.error_spanned_by(attr, "name the version: #[api_version(2)]");
        return None;
    };
    let lits = match Punctuated::<LitInt, Token![,]>::parse_terminated.parse2(list.tokens.clone()) {
        Ok(lits) => lits,
        Err(error) => {
            cx.syn_error(syn::Error::new(
                error.span(),
                "expected version numbers: #[api_version(2)] or #[api_version(1, 2)]",
            ));
            return None;
        }
    };
    if lits.is_empty() {
        cx.error_spanned_by(attr, "name the version: #[api_version(2)]");
        return None;
    }
    let mut versions = Vec::new();
    for lit in &lits {
        let Some(version) = version_number(lit, cx) else {
            continue;
        };
        if versions.contains(&version) {
            cx.error_spanned_by(lit, format!("version {version} is listed twice"));
            continue;
        }
        versions.push(version);
    }
    (versions.len() == lits.len()).then_some(versions)
}

/// The `path` and first `method` of the method's `#[oai(...)]`.
fn oai_path_and_method(method: &ImplItemFn) -> Option<(LitStr, String)> {
    let path = oai_value::<LitStr>(method, "path")?;
    let http_method = oai_value::<LitStr>(method, "method")
        .map_or_else(String::new, |m| m.value().to_lowercase());
    Some((path, http_method))
}

/// Versioned path, version tag, `deprecated`, `operation_id` with `_vN`.
fn rewrite_oai(method: &mut ImplItemFn, prefix: &str, version: u32, deprecated: bool, tag: &str) {
    let Some(attr) = method
        .attrs
        .iter_mut()
        .find(|attr| attr.path().is_ident("oai"))
    else {
        return;
    };
    let Ok(metas) = attr.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated) else {
        return;
    };
    let mut has_deprecated = false;
    let mut out: Vec<TokenStream> = Vec::new();
    for meta in metas {
        if let Some(lit) = string_arg(&meta, "path") {
            let joined = match lit.value().as_str() {
                "/" | "" => prefix.to_owned(),
                own => format!("{prefix}{own}"),
            };
            let lit = LitStr::new(&joined, lit.span());
            out.push(quote!(path = #lit));
        } else if let Some(lit) = string_arg(&meta, "operation_id") {
            let lit = LitStr::new(&format!("{}_v{version}", lit.value()), lit.span());
            out.push(quote!(operation_id = #lit));
        } else {
            has_deprecated |= meta.path().is_ident("deprecated");
            out.push(meta.to_token_stream());
        }
    }
    let tag = LitStr::new(tag, Span::call_site());
    out.push(quote!(tag = #tag));
    if deprecated && !has_deprecated {
        out.push(quote!(deprecated));
    }
    if let Meta::List(list) = &mut attr.meta {
        list.tokens = quote!(#(#out),*);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_utc_instants() {
        assert_eq!(date("1970-01-01").unwrap().unix, 0);
        // RFC 9745's example: @1688169599 is 2023-06-30T23:59:59Z.
        assert_eq!(date("2023-06-30T23:59:59Z").unwrap().unix, 1_688_169_599);
        assert_eq!(date("2026-12-31T23:59:59Z").unwrap().unix, 1_798_761_599);
        assert_eq!(date("2024-02-29").unwrap().unix, 1_709_164_800);
        for bad in [
            "2026-13-01",
            "2026-02-29",
            "2026-1-01",
            "31/12/2026",
            "2026-12-31T24:00:00Z",
            "2026-12-31T23:59:59",
            "2026-12-31T23:59:59+01:00",
            "1969-12-31",
            "tomorrow",
            "",
        ] {
            assert!(date(bad).is_none(), "{bad}");
        }
    }
}
