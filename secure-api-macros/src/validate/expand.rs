//! Code generation for a checked `#[derive(Validate)]` struct. For each field `i`:
//! - `__rules_i`: its rules, checked on a value read from JSON or built in code;
//! - `__nested_i`: the rules of the models nested in it (only when it has any);
//! - `__SCHEMA_i`: its JSON Schema keywords, and `__SECRET_i`: whether its value is
//!   never echoed (and never serialized);
//!
//! then the `Validate` impl (reading every field, reporting every problem) and
//! poem-openapi's `Type` (the schema with the rules' keywords), `ParseFromJSON`,
//! `ToJSON` and `IsObjectType`. Everything sits in `const _: () = { ... };` and
//! reaches the runtime through `::secure_api::__private::validation`.

use super::{
    ast::{Leaf, Model, Shape},
    attr::{self, Bounds, DefaultValue, Number, PasswordOptions, RangeBounds, Rule, RuleKind},
    valid::wire_name,
};
use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

pub(crate) fn expand(model: &Model) -> TokenStream {
    let ident = model.ident;
    let schema_name = model
        .options
        .rename
        .as_ref()
        .map(|name| name.value())
        .unwrap_or_else(|| ident.to_string());
    let mut generator = Generator::default();
    let mut read_fields = Vec::new();
    let mut check_fields = Vec::new();
    let mut field_map = Vec::new();
    let mut register = Vec::new();
    let mut required = Vec::new();
    let mut properties = Vec::new();
    let mut to_json = Vec::new();
    let mut wires = Vec::new();
    let mut idents = Vec::new();
    let mut vars = Vec::new();
    // How each field is taken from `Direct` slots, while every field can be.
    let mut direct_fields = Some(Vec::new());

    for (i, field) in model.fields.iter().enumerate() {
        let wire = wire_name(model, field);
        let rust = field.rust_name();
        // RFC 6901 §3: `~` is `~0` and `/` is `~1`.
        let pointer = format!("/{}", wire.replace('~', "~0").replace('/', "~1"));
        let field_ident = field.ident;
        let ty = field.ty;
        let secret = format_ident!("__SECRET_{}", i);
        let rules_fn = format_ident!("__rules_{}", i);
        let schema = format_ident!("__SCHEMA_{}", i);
        let var = format_ident!("__field_{}", i);
        let explicit_secret = field.options.secret.is_some()
            || field
                .rules
                .iter()
                .any(|rule| matches!(rule.kind, RuleKind::Password(_)));

        // `__rules_i` takes the whole field: an `Option` is looked into there.
        let rules_body = generator.rules(&field.shape, &field.rules, i);
        let nested_body = generator.nested(&field.shape);
        let keywords = generator.keywords(field.shape.present(), &field.rules, i);
        let docs = option_str(field.docs.as_deref());
        generator.support.push(quote! {
            const #secret: bool = #explicit_secret
                || __v::is_secret_name(#wire)
                || __v::is_secret_name(#rust);
            #[allow(clippy::needless_update)]
            const #schema: __v::FieldSchema = __v::FieldSchema {
                description: #docs,
                write_only: #secret,
                #keywords
                ..__v::FieldSchema::NONE
            };
            #[inline]
            #[allow(unused_variables)]
            fn #rules_fn(value: &#ty, at: &__v::Location<'_>, report: &mut __v::Report) {
                #rules_body
            }
        });
        let reader = generator.reader(&field.shape);
        let default = field.options.default.as_ref().map(|default| match default {
            DefaultValue::Trait(path) => {
                quote_spanned!(path.span()=> <#ty as ::core::default::Default>::default())
            }
            DefaultValue::Function(path) => quote_spanned!(path.span()=> #path()),
        });
        let default_arm = default.as_ref().map(|default| {
            quote!(::core::option::Option::None
                | ::core::option::Option::Some(__v::Value::Null) => ::core::option::Option::Some(#default),)
        });
        let slot = format_ident!("__slot_{}", i);
        // Types whose direct read is exactly the `Value` pass's (see `FromDirect`).
        let is_direct = |shape: &Shape| {
            matches!(
                shape,
                Shape::Leaf(_, Leaf::String | Leaf::Integer { .. } | Leaf::Bool)
            )
        };
        let direct = match &field.shape {
            Shape::Optional(inner) if is_direct(inner) => true,
            Shape::List(inner) => matches!(**inner, Shape::Leaf(_, Leaf::String)),
            shape => is_direct(shape),
        }
        .then(|| quote!(<#ty as __v::FromDirect>::from_direct(#slot)?));
        match (direct, &mut direct_fields) {
            (Some(direct), Some(fields)) => fields.push(match &default {
                Some(default) => quote! {
                    #field_ident: match __v::Direct::is_default(&#slot) {
                        true => #default,
                        false => #direct,
                    }
                },
                None => quote!(#field_ident: #direct),
            }),
            _ => direct_fields = None,
        }
        read_fields.push(quote! {
            let #var: ::core::option::Option<#ty> = {
                let at = &at.declared_field(#wire, #pointer, #secret);
                let read: ::core::option::Option<#ty> = match slots[#i].take() {
                    #default_arm
                    value => (#reader)(value, at, report),
                };
                if let ::core::option::Option::Some(value) = &read {
                    #rules_fn(value, at, report);
                }
                read
            };
        });
        check_fields.push(quote! {
            {
                let at = &at.declared_field(#wire, #pointer, #secret);
                let value = &self.#field_ident;
                #rules_fn(value, at, report);
                #nested_body
            }
        });
        field_map.push(quote!(#rust => ::core::option::Option::Some((#wire, #secret)),));
        register.push(quote_spanned!(ty.span()=> <#ty as __v::Type>::register(registry);));
        let has_default = default.is_some();
        required.push(quote! {
            if <#ty as __v::Type>::IS_REQUIRED && !#has_default {
                required.push(#wire);
            }
        });
        let default_json = match &default {
            Some(default) => quote!(__v::ToJSON::to_json(&#default)),
            None => quote!(::core::option::Option::None),
        };
        properties.push(quote! {
            (#wire, __v::property_schema(<#ty as __v::Type>::schema_ref(), &#schema, #default_json))
        });
        to_json.push(quote! {
            if !#secret {
                if let ::core::option::Option::Some(value) = __v::ToJSON::to_json(&self.#field_ident) {
                    object.insert(::std::string::ToString::to_string(#wire), value);
                }
            }
        });
        wires.push(wire);
        idents.push(field_ident);
        vars.push(var);
    }

    let deny_unknown = model.options.allow_unknown_fields.is_none();
    let unknown = match deny_unknown {
        true => quote!(__v::unknown_fields(unknown, at, report, &[#(#wires),*]);),
        false => TokenStream::new(),
    };
    let keep_unknown = match deny_unknown {
        true => quote!(unknown.push(key)),
        false => quote!({}),
    };
    let indices = 0..model.fields.len();
    let field_count = model.fields.len();
    let additional_properties = match deny_unknown {
        true => quote!(__v::no_additional_properties()),
        false => quote!(::core::option::Option::None),
    };
    let customs = &model.options.custom;
    let custom_on_read = customs
        .iter()
        .map(|path| quote_spanned!(path.span()=> report.model_rule(at, #path(&value), __field);));
    let custom_on_check = customs
        .iter()
        .map(|path| quote_spanned!(path.span()=> report.model_rule(at, #path(self), __field);));
    let field_fn = (!customs.is_empty()).then(|| {
        quote! {
            fn __field(name: &str) -> ::core::option::Option<(&'static str, bool)> {
                match name {
                    #(#field_map)*
                    _ => ::core::option::Option::None,
                }
            }
        }
    });
    // Only for a model of text, integer and boolean fields: its read is then exactly
    // what the `Value` pass would read (see `secure_api::validation::direct`).
    let read_direct = direct_fields.map(|fields| {
        let slots = (0..model.fields.len()).map(|i| format_ident!("__slot_{}", i));
        let allow_unknown = !deny_unknown;
        quote! {
            fn __read_direct(body: &[u8]) -> ::core::option::Option<Self> {
                let [#(#slots),*] = __v::direct_object(body, &[#(#wires),*], #allow_unknown)?;
                ::core::option::Option::Some(Self { #(#fields,)* })
            }
        }
    });
    let model_docs = option_str(model.docs.as_deref());
    let support = &generator.support;

    quote! {
        #[allow(non_upper_case_globals, non_snake_case, clippy::all)]
        const _: () = {
            use ::secure_api::__private::validation as __v;
            #[allow(unused_imports)]
            use __v::{ReadViaModel as _, ReadViaType as _};

            #(#support)*
            #field_fn

            impl ::secure_api::validation::Validate for #ident {
                fn __read_json(
                    value: ::core::option::Option<__v::Value>,
                    at: &__v::Location<'_>,
                    report: &mut __v::Report,
                ) -> ::core::option::Option<Self> {
                    let object = __v::object(value, at, report, #schema_name)?;
                    // One pass over the object, as serde does: each value to its
                    // field's slot, the names the model does not declare aside.
                    #[allow(unused_mut)]
                    let mut slots: [::core::option::Option<__v::Value>; #field_count] =
                        [const { ::core::option::Option::None }; #field_count];
                    #[allow(unused_mut, unused_variables)]
                    let mut unknown: ::std::vec::Vec<::std::string::String> = ::std::vec::Vec::new();
                    for (key, value) in object {
                        match key.as_str() {
                            #(#wires => slots[#indices] = ::core::option::Option::Some(value),)*
                            _ => #keep_unknown,
                        }
                    }
                    #(#read_fields)*
                    #unknown
                    let value = Self { #(#idents: #vars?,)* };
                    #(#custom_on_read)*
                    ::core::option::Option::Some(value)
                }

                fn __check(&self, at: &__v::Location<'_>, report: &mut __v::Report) {
                    #(#check_fields)*
                    #(#custom_on_check)*
                }

                #read_direct
            }

            impl __v::Type for #ident {
                const IS_REQUIRED: bool = true;
                type RawValueType = Self;
                type RawElementValueType = Self;

                fn name() -> __v::Cow<'static, str> {
                    __v::Cow::Borrowed(#schema_name)
                }

                fn schema_ref() -> __v::MetaSchemaRef {
                    __v::MetaSchemaRef::Reference(::std::string::ToString::to_string(#schema_name))
                }

                fn register(registry: &mut __v::Registry) {
                    registry.create_schema::<Self, _>(
                        ::std::string::ToString::to_string(#schema_name),
                        |registry| {
                            #(#register)*
                            __v::MetaSchema {
                                title: ::core::option::Option::Some(
                                    ::std::string::ToString::to_string(#schema_name),
                                ),
                                description: #model_docs,
                                required: {
                                    #[allow(unused_mut)]
                                    let mut required = ::std::vec::Vec::new();
                                    #(#required)*
                                    required
                                },
                                properties: ::std::vec![#(#properties),*],
                                additional_properties: #additional_properties,
                                ..__v::MetaSchema::new("object")
                            }
                        },
                    )
                }

                fn as_raw_value(&self) -> ::core::option::Option<&Self> {
                    ::core::option::Option::Some(self)
                }

                fn raw_element_iter<'a>(
                    &'a self,
                ) -> ::std::boxed::Box<dyn ::core::iter::Iterator<Item = &'a Self> + 'a> {
                    ::std::boxed::Box::new(::core::iter::once(self))
                }
            }

            impl __v::IsObjectType for #ident {}

            impl __v::ParseFromJSON for #ident {
                fn parse_from_json(
                    value: ::core::option::Option<__v::Value>,
                ) -> __v::ParseResult<Self> {
                    let mut report = __v::Report::new();
                    let read = <Self as ::secure_api::validation::Validate>::__read_json(
                        value,
                        &__v::Location::ROOT,
                        &mut report,
                    );
                    __v::finish(read, report)
                        .map_err(|errors| __v::ParseError::custom(errors))
                }
            }

            impl __v::ToJSON for #ident {
                fn to_json(&self) -> ::core::option::Option<__v::Value> {
                    #[allow(unused_mut)]
                    let mut object = __v::Map::new();
                    #(#to_json)*
                    ::core::option::Option::Some(__v::Value::Object(object))
                }
            }
        };
    }
}

/// A field's `custom = path` called on `value`, typed where the user wrote the path,
/// so a function of the wrong signature is reported there in plain words.
fn custom_call(path: &syn::Path) -> TokenStream {
    quote_spanned! {path.span()=>
        {
            let outcome: ::core::result::Result<(), ::secure_api::validation::RuleError> =
                #path(value);
            outcome
        }
    }
}

fn option_str(text: Option<&str>) -> TokenStream {
    match text {
        Some(text) => quote!(::core::option::Option::Some(#text)),
        None => quote!(::core::option::Option::None),
    }
}

fn option_usize(lit: Option<usize>) -> TokenStream {
    match lit {
        Some(value) => quote!(::core::option::Option::Some(#value)),
        None => quote!(::core::option::Option::None),
    }
}

/// Names the statics (compiled patterns, password policies) that rules need, and
/// keeps them for the output.
#[derive(Default)]
struct Generator {
    support: Vec<TokenStream>,
    counter: usize,
}

impl Generator {
    fn next_ident(&mut self, kind: &str, field: usize) -> syn::Ident {
        self.counter += 1;
        format_ident!("__{}_{}_{}", kind, field, self.counter)
    }

    fn pattern(&mut self, lit: &syn::LitStr, field: usize) -> syn::Ident {
        let name = self.next_ident("PATTERN", field);
        // Compiled on first use, once; the macro compiled it already, so it cannot
        // fail here (and if it did, the rule would fail closed, never panic).
        self.support.push(quote! {
            static #name: __v::CompiledPattern = __v::CompiledPattern::new(|| __v::Regex::new(#lit));
        });
        name
    }

    /// A static that keeps a rule's error once built (see `RuleErrorCell`).
    fn error_cell(&mut self, field: usize) -> syn::Ident {
        let name = self.next_ident("ERROR", field);
        self.support.push(quote! {
            static #name: __v::RuleErrorCell = __v::RuleErrorCell::new();
        });
        name
    }

    fn policy(&mut self, options: &PasswordOptions, field: usize) -> syn::Ident {
        let name = self.next_ident("PASSWORD", field);
        let mut fields = Vec::new();
        if let Some(min) = &options.min_length {
            fields.push(quote!(min_length: #min,));
        }
        if let Some(max) = &options.max_length {
            fields.push(quote!(max_length: #max,));
        }
        if options.composition {
            fields.push(quote!(composition: true,));
        }
        if let Some(blocklist) = &options.blocklist {
            fields.push(quote!(blocklist: #blocklist,));
        }
        self.support.push(quote! {
            #[allow(clippy::needless_update)]
            const #name: __v::password::PasswordPolicy = __v::password::PasswordPolicy {
                #(#fields)*
                ..__v::password::PasswordPolicy::NIST
            };
        });
        name
    }

    /// The checks of `rules` on `value: &T` at `at`, where `shape` is `T`'s.
    fn rules(&mut self, shape: &Shape, rules: &[Rule], field: usize) -> TokenStream {
        match shape {
            Shape::Optional(inner) => {
                let body = self.rules(inner, rules, field);
                if body.is_empty() {
                    return body;
                }
                quote!(if let ::core::option::Option::Some(value) = value { #body })
            }
            Shape::List(inner) => {
                let mut out = TokenStream::new();
                for rule in rules {
                    out.extend(match &rule.kind {
                        RuleKind::Length(bounds) => {
                            let (min, max) = bound_tokens(bounds);
                            quote!(report.check(at, &__v::NoEcho, __v::rules::items(value.len(), #min, #max));)
                        }
                        RuleKind::Unique => {
                            quote!(report.check(at, &__v::NoEcho, __v::rules::unique(&value[..]));)
                        }
                        RuleKind::Custom(path) => {
                            let call = custom_call(path);
                            quote!(report.check(at, &__v::NoEcho, #call);)
                        }
                        RuleKind::Each(item_rules) => {
                            let body = self.rules(inner, item_rules, field);
                            quote! {
                                for (index, value) in value.iter().enumerate() {
                                    let at = &at.index(index);
                                    #body
                                }
                            }
                        }
                        _ => TokenStream::new(),
                    });
                }
                out
            }
            Shape::Leaf(_, leaf) => {
                let echo = match leaf {
                    Leaf::Other => quote!(&__v::NoEcho),
                    _ => quote!(value),
                };
                let mut out = TokenStream::new();
                for rule in rules {
                    let written = &rule.written;
                    // Spanned at the rule: a type that does not fit (a string rule on
                    // a type without `AsRef<str>`) is reported there.
                    let span = written
                        .clone()
                        .into_iter()
                        .next()
                        .map_or_else(proc_macro2::Span::call_site, |token| token.span());
                    let text = quote_spanned!(span=> ::core::convert::AsRef::<str>::as_ref(value));
                    let check = match &rule.kind {
                        RuleKind::Length(bounds) => {
                            let (min, max) = bound_tokens(bounds);
                            let cell = self.error_cell(field);
                            quote!(__v::length(#text, #min, #max, &#cell))
                        }
                        RuleKind::Pattern(lit) => {
                            let compiled = self.pattern(lit, field);
                            quote!(__v::pattern(#text, &#compiled))
                        }
                        RuleKind::Email => quote!(__v::rules::email(#text)),
                        RuleKind::Url => quote!(__v::rules::url(#text)),
                        RuleKind::OneOf(values) => {
                            let cell = self.error_cell(field);
                            quote!(__v::one_of(#text, &[#(#values),*], &#cell))
                        }
                        RuleKind::Contains(needle) => {
                            quote!(__v::rules::contains(#text, #needle))
                        }
                        RuleKind::Ascii => quote!(__v::rules::ascii(#text)),
                        RuleKind::Alphanumeric => quote!(__v::rules::alphanumeric(#text)),
                        RuleKind::AsciiAlphanumeric => {
                            quote!(__v::rules::ascii_alphanumeric(#text))
                        }
                        RuleKind::Printable => quote!(__v::rules::printable(#text)),
                        RuleKind::Range(bounds) => {
                            let limits = limits_tokens(bounds, *leaf);
                            quote!(__v::rules::range(*value, &#limits))
                        }
                        RuleKind::Password(options) => {
                            let policy = self.policy(options, field);
                            let rule = self.next_ident("PASSWORD_RULE", field);
                            self.support.push(quote! {
                                static #rule: __v::PasswordRule = __v::PasswordRule::new(#policy);
                            });
                            out.extend(quote_spanned! {written.span()=>
                                __v::password(#text, &#rule, |error| {
                                    report.fail(at, error, ::core::option::Option::None)
                                });
                            });
                            continue;
                        }
                        RuleKind::Custom(path) => custom_call(path),
                        RuleKind::Unique | RuleKind::Each(_) => continue,
                    };
                    out.extend(quote_spanned!(span=> report.check(at, #echo, #check);));
                }
                out
            }
        }
    }

    /// The checks of the models nested in a value of `shape` (empty when none can be).
    fn nested(&mut self, shape: &Shape) -> TokenStream {
        match shape {
            Shape::Optional(inner) => {
                let body = self.nested(inner);
                match body.is_empty() {
                    true => body,
                    false => quote!(if let ::core::option::Option::Some(value) = value { #body }),
                }
            }
            Shape::List(inner) => {
                let body = self.nested(inner);
                match body.is_empty() {
                    true => body,
                    false => quote! {
                        for (index, value) in value.iter().enumerate() {
                            let at = &at.index(index);
                            #body
                        }
                    },
                }
            }
            Shape::Leaf(ty, Leaf::Other) => quote_spanned! {ty.span()=>
                (&&__v::Leaf::<#ty>::NEW).check_nested(value, at, report);
            },
            Shape::Leaf(..) => TokenStream::new(),
        }
    }

    /// A closure that reads a value of `shape` from JSON.
    fn reader(&mut self, shape: &Shape) -> TokenStream {
        let params = quote! {
            value: ::core::option::Option<__v::Value>,
            at: &__v::Location<'_>,
            report: &mut __v::Report
        };
        match shape {
            Shape::Optional(inner) => {
                let inner = self.reader(inner);
                quote!(|#params| __v::read_optional(value, at, report, #inner))
            }
            Shape::List(inner) => {
                let inner = self.reader(inner);
                quote!(|#params| __v::read_list(value, at, report, #inner))
            }
            Shape::Leaf(_, Leaf::String) => quote!(|#params| __v::read_string(value, at, report)),
            Shape::Leaf(ty, _) => quote_spanned! {ty.span()=>
                |#params| (&&__v::Leaf::<#ty>::NEW).read(value, at, report)
            },
        }
    }

    /// The `FieldSchema` fields that `rules` on a value of `shape` contribute.
    fn keywords(&mut self, shape: &Shape, rules: &[Rule], field: usize) -> TokenStream {
        let mut out = TokenStream::new();
        let mut pattern_given = false;
        for rule in rules {
            if let RuleKind::Pattern(_) = rule.kind {
                pattern_given = true;
            }
        }
        let is_list = matches!(shape, Shape::List(_));
        for rule in rules {
            out.extend(match &rule.kind {
                RuleKind::Length(bounds) => {
                    let (min, max) = bound_tokens(bounds);
                    match is_list {
                        true => quote!(min_items: #min, max_items: #max,),
                        false => quote!(min_length: #min, max_length: #max,),
                    }
                }
                RuleKind::Pattern(lit) => quote!(pattern: ::core::option::Option::Some(#lit),),
                RuleKind::Email => quote!(format: ::core::option::Option::Some("email"),),
                RuleKind::Url => quote!(format: ::core::option::Option::Some("uri"),),
                RuleKind::OneOf(values) => quote!(enum_items: &[#(#values),*],),
                RuleKind::Ascii if !pattern_given => {
                    quote!(pattern: ::core::option::Option::Some("^[\\x00-\\x7F]*$"),)
                }
                RuleKind::AsciiAlphanumeric if !pattern_given => {
                    quote!(pattern: ::core::option::Option::Some("^[a-zA-Z0-9]*$"),)
                }
                RuleKind::Range(bounds) => range_keywords(bounds),
                RuleKind::Unique => quote!(unique_items: true,),
                RuleKind::Password(options) => {
                    let policy = self.policy(options, field);
                    quote! {
                        min_length: ::core::option::Option::Some(#policy.min_length),
                        max_length: ::core::option::Option::Some(#policy.max_length),
                        format: ::core::option::Option::Some("password"),
                    }
                }
                RuleKind::Each(item_rules) => {
                    let Shape::List(inner) = shape else {
                        continue;
                    };
                    let inner = self.keywords(inner.present(), item_rules, field);
                    quote! {
                        items: ::core::option::Option::Some(&__v::FieldSchema {
                            #inner
                            ..__v::FieldSchema::NONE
                        }),
                    }
                }
                _ => TokenStream::new(),
            });
        }
        out
    }
}

fn bound_tokens(bounds: &Bounds) -> (TokenStream, TokenStream) {
    match &bounds.equal {
        Some(_) => {
            let equal = attr::int(&bounds.equal);
            (option_usize(equal), option_usize(equal))
        }
        None => (
            option_usize(attr::int(&bounds.min)),
            option_usize(attr::int(&bounds.max)),
        ),
    }
}

/// A bound as a value of the field's type: integers as written, floats as float
/// literals (so `range(min = 0)` on an `f64` reads `0.0`).
fn number_tokens(number: &Number, leaf: Leaf) -> TokenStream {
    match (leaf, number.is_float) {
        (Leaf::Float, false) => {
            let literal = Literal::f64_unsuffixed(number.value.abs());
            match number.negative {
                true => quote!(-#literal),
                false => quote!(#literal),
            }
        }
        _ => number.written.clone(),
    }
}

fn limits_tokens(bounds: &RangeBounds, leaf: Leaf) -> TokenStream {
    let bound = |a: &Option<Number>, b: &Option<Number>| match a.as_ref().or(b.as_ref()) {
        Some(number) => {
            let value = number_tokens(number, leaf);
            quote!(::core::option::Option::Some(#value))
        }
        None => quote!(::core::option::Option::None),
    };
    let min = bound(&bounds.min, &bounds.exclusive_min);
    let max = bound(&bounds.max, &bounds.exclusive_max);
    let exclusive_min = bounds.exclusive_min.is_some();
    let exclusive_max = bounds.exclusive_max.is_some();
    quote! {
        __v::rules::Limits {
            min: #min,
            max: #max,
            exclusive_min: #exclusive_min,
            exclusive_max: #exclusive_max,
        }
    }
}

fn range_keywords(bounds: &RangeBounds) -> TokenStream {
    let mut out = TokenStream::new();
    if let Some(number) = bounds.min.as_ref().or(bounds.exclusive_min.as_ref()) {
        let value = Literal::f64_suffixed(number.value);
        out.extend(quote!(minimum: ::core::option::Option::Some(#value),));
    }
    if let Some(number) = bounds.max.as_ref().or(bounds.exclusive_max.as_ref()) {
        let value = Literal::f64_suffixed(number.value);
        out.extend(quote!(maximum: ::core::option::Option::Some(#value),));
    }
    if bounds.exclusive_min.is_some() {
        out.extend(quote!(exclusive_minimum: true,));
    }
    if bounds.exclusive_max.is_some() {
        out.extend(quote!(exclusive_maximum: true,));
    }
    out
}
