//! A typed view of the struct given to `#[derive(Validate)]`: its fields, the shape
//! of each field's type, and the rules and options written on them.

use super::attr::{self, FieldOptions, ModelOptions, Rule};
use crate::ctxt::Ctxt;
use syn::{
    Attribute, Data, DeriveInput, Fields, GenericArgument, Ident, PathArguments, Type,
    ext::IdentExt,
};

pub(crate) struct Model<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) input: &'a DeriveInput,
    pub(crate) docs: Option<String>,
    pub(crate) options: ModelOptions,
    pub(crate) fields: Vec<Field<'a>>,
    /// `#[oai(...)]` attributes, which belong to poem-openapi's derive, not ours.
    pub(crate) stray_oai: Vec<&'a Attribute>,
}

pub(crate) struct Field<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) ty: &'a Type,
    pub(crate) shape: Shape<'a>,
    pub(crate) docs: Option<String>,
    pub(crate) options: FieldOptions,
    pub(crate) rules: Vec<Rule>,
}

impl Field<'_> {
    /// The field's name in Rust, without `r#`.
    pub(crate) fn rust_name(&self) -> String {
        self.ident.unraw().to_string()
    }
}

/// How a field's type nests, as far as the rules care: `Option` (checked only when
/// present), `Vec` (rules on the list, `each` on its items), then a leaf.
pub(crate) enum Shape<'a> {
    Optional(Box<Shape<'a>>),
    List(Box<Shape<'a>>),
    Leaf(&'a Type, Leaf),
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Leaf {
    String,
    Integer {
        signed: bool,
    },
    Float,
    Bool,
    /// Any other type: a nested model, an enum, a newtype; rules on it go through
    /// trait bounds (`AsRef<str>` for string rules), so a misfit is a type error.
    Other,
}

impl<'a> Shape<'a> {
    pub(crate) fn of(ty: &'a Type) -> Shape<'a> {
        if let Some(inner) = single_generic(ty, "Option") {
            return Shape::Optional(Box::new(Shape::of(inner)));
        }
        if let Some(inner) = single_generic(ty, "Vec") {
            return Shape::List(Box::new(Shape::of(inner)));
        }
        Shape::Leaf(ty, Leaf::of(ty))
    }

    /// The shape the rules apply to: `Option` is looked through.
    pub(crate) fn present(&self) -> &Shape<'a> {
        match self {
            Shape::Optional(inner) => inner.present(),
            other => other,
        }
    }

    pub(crate) fn is_optional(&self) -> bool {
        matches!(self, Shape::Optional(_))
    }

    /// How the type reads in messages: "a list", "`u32`".
    pub(crate) fn describe(&self) -> String {
        match self.present() {
            Shape::List(_) => "a list".to_owned(),
            Shape::Leaf(ty, _) => format!("`{}`", quote::quote!(#ty).to_string().replace(' ', "")),
            Shape::Optional(_) => unreachable!("`present` looks through options"),
        }
    }
}

impl Leaf {
    fn of(ty: &Type) -> Leaf {
        let Type::Path(path) = ty else {
            return Leaf::Other;
        };
        if path.qself.is_some() || path.path.segments.len() != 1 {
            return match path.path.segments.last() {
                Some(last) if last.ident == "String" && is_std_path(&path.path) => Leaf::String,
                _ => Leaf::Other,
            };
        }
        match path.path.segments[0].ident.to_string().as_str() {
            "String" => Leaf::String,
            "i8" | "i16" | "i32" | "i64" | "isize" => Leaf::Integer { signed: true },
            "u8" | "u16" | "u32" | "u64" | "usize" => Leaf::Integer { signed: false },
            "f32" | "f64" => Leaf::Float,
            "bool" => Leaf::Bool,
            _ => Leaf::Other,
        }
    }
}

fn is_std_path(path: &syn::Path) -> bool {
    path.segments
        .first()
        .is_some_and(|first| first.ident == "std" || first.ident == "alloc")
}

/// `T` of `Name<T>` (also `std::option::Option<T>`, `::std::vec::Vec<T>`).
fn single_generic<'a>(ty: &'a Type, name: &str) -> Option<&'a Type> {
    let Type::Path(path) = ty else {
        return None;
    };
    if path.qself.is_some() {
        return None;
    }
    let last = path.path.segments.last()?;
    if last.ident != name {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.iter().collect::<Vec<_>>().as_slice() {
        [GenericArgument::Type(inner)] => Some(inner),
        _ => None,
    }
}

/// The text of `///` comments, as poem-openapi reads them for descriptions.
fn docs(attrs: &[Attribute]) -> Option<String> {
    let lines: Vec<String> = attrs
        .iter()
        .filter(|attr| attr.path().is_ident("doc"))
        .filter_map(|attr| match &attr.meta {
            syn::Meta::NameValue(nv) => match &nv.value {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(lit),
                    ..
                }) => Some(lit.value().trim().to_owned()),
                _ => None,
            },
            _ => None,
        })
        .collect();
    let text = lines.join("\n").trim().to_owned();
    (!text.is_empty()).then_some(text)
}

impl<'a> Model<'a> {
    /// Errors go to `cx`; `None` when the item is no struct with named fields.
    pub(crate) fn from_input(input: &'a DeriveInput, cx: &mut Ctxt) -> Option<Self> {
        let mut options = ModelOptions::default();
        for attr in input.attrs.iter().filter(|a| a.path().is_ident("validate")) {
            match &attr.meta {
                syn::Meta::List(list) => attr::parse_model(list.tokens.clone(), &mut options, cx),
                _ => cx.error_spanned_by(
                    attr,
                    "write the model's options in parentheses, e.g. \
                     #[validate(rename_all = \"camelCase\")]",
                ),
            }
        }
        let mut stray_oai: Vec<&Attribute> = input
            .attrs
            .iter()
            .filter(|a| a.path().is_ident("oai"))
            .collect();
        let named = match &input.data {
            Data::Struct(data) => match &data.fields {
                Fields::Named(named) => Some(named),
                _ => None,
            },
            _ => None,
        };
        let Some(named) = named else {
            cx.error_spanned_by(
                &input.ident,
                "#[derive(Validate)] works on a struct with named fields, one per JSON \
                 property, e.g. struct UserCreate { username: String }",
            );
            return None;
        };
        let mut fields = Vec::new();
        for field in &named.named {
            let Some(ident) = &field.ident else {
                continue;
            };
            stray_oai.extend(field.attrs.iter().filter(|a| a.path().is_ident("oai")));
            let mut rules = Vec::new();
            let mut field_options = FieldOptions::default();
            for attr in field.attrs.iter().filter(|a| a.path().is_ident("validate")) {
                match &attr.meta {
                    syn::Meta::List(list) => {
                        attr::parse_field(list.tokens.clone(), &mut rules, &mut field_options, cx)
                    }
                    _ => cx.error_spanned_by(
                        attr,
                        "write the rules in parentheses, e.g. #[validate(length(min = 3))]",
                    ),
                }
            }
            fields.push(Field {
                ident,
                ty: &field.ty,
                shape: Shape::of(&field.ty),
                docs: docs(&field.attrs),
                options: field_options,
                rules,
            });
        }
        Some(Model {
            ident: &input.ident,
            input,
            docs: docs(&input.attrs),
            options,
            fields,
            stray_oai,
        })
    }
}
