//! The fast way in for a model whose fields are all text, integers or booleans
//! (`String`, `i32`, `bool`, ..., an `Option` of one, or `Vec<String>`): the body
//! deserialized straight into the fields, with no
//! `serde_json::Value` tree in between. It gives up (`None`) at the first thing it does
//! not expect (a wrong type, an unknown or repeated field, a missing one, not JSON);
//! the caller then reads the body through a `Value`, the pass that reports every
//! problem. So a body read here holds exactly what that pass would have read, and
//! its rules, checked in the same order, report the same errors.

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// One field's value as the body wrote it.
pub enum Direct {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A negative integer.
    Int(i64),
    /// A non-negative integer.
    UInt(u64),
    /// A string.
    Text(String),
    /// An array of strings.
    Texts(Vec<String>),
}

impl Direct {
    /// Whether a field with a default takes it: absent or `null`, as the `Value`
    /// pass decides.
    #[inline]
    pub fn is_default(slot: &Option<Direct>) -> bool {
        matches!(slot, None | Some(Direct::Null))
    }
}

/// A field's type read from its slot, exactly as the `Value` pass reads it (strict
/// types: a string is not a number, an integer out of range is refused), or `None`.
pub trait FromDirect: Sized {
    /// The value, or `None` to let the `Value` pass report why not.
    fn from_direct(slot: Option<Direct>) -> Option<Self>;
}

// A string, a list of strings, a boolean: only the JSON value of that kind.
macro_rules! exactly {
    ($($ty:ty => $variant:ident),*) => {$(
        impl FromDirect for $ty {
            #[inline]
            fn from_direct(slot: Option<Direct>) -> Option<Self> {
                match slot {
                    Some(Direct::$variant(value)) => Some(value),
                    _ => None,
                }
            }
        }
    )*};
}

exactly!(String => Text, Vec<String> => Texts, bool => Bool);

// poem-openapi reads a signed integer with `as_i64` and an unsigned one with
// `as_u64`, then checks its range: `try_from` refuses the same values.
macro_rules! integers {
    ($($ty:ty),*) => {$(
        impl FromDirect for $ty {
            #[inline]
            fn from_direct(slot: Option<Direct>) -> Option<Self> {
                match slot {
                    Some(Direct::Int(value)) => <$ty>::try_from(value).ok(),
                    Some(Direct::UInt(value)) => <$ty>::try_from(value).ok(),
                    _ => None,
                }
            }
        }
    )*};
}

integers!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);

impl<T: FromDirect> FromDirect for Option<T> {
    #[inline]
    fn from_direct(slot: Option<Direct>) -> Option<Self> {
        match slot {
            None | Some(Direct::Null) => Some(None),
            present => T::from_direct(present).map(Some),
        }
    }
}

impl<'de> de::Deserialize<'de> for Direct {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(DirectVisitor)
    }
}

struct DirectVisitor;

impl<'de> Visitor<'de> for DirectVisitor {
    type Value = Direct;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string, an integer, a boolean, an array of strings or null")
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<Direct, E> {
        Ok(Direct::Bool(value))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Direct, E> {
        Ok(Direct::Int(value))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Direct, E> {
        Ok(Direct::UInt(value))
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Direct, E> {
        Ok(Direct::Text(text.to_owned()))
    }

    fn visit_string<E: de::Error>(self, text: String) -> Result<Direct, E> {
        Ok(Direct::Text(text))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Direct, E> {
        Ok(Direct::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Direct, E> {
        Ok(Direct::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Direct, A::Error> {
        let mut texts = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(16));
        while let Some(text) = seq.next_element::<String>()? {
            texts.push(text);
        }
        Ok(Direct::Texts(texts))
    }
}

/// The values of the fields named `fields` (wire names) in the JSON object `body`,
/// each in its slot; `None` when `body` is anything else, or has a field twice, or
/// (unless `allow_unknown`) a field not in `fields`.
pub fn direct_object<const N: usize>(
    body: &[u8],
    fields: &[&str; N],
    allow_unknown: bool,
) -> Option<[Option<Direct>; N]> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let slots = Object {
        fields,
        allow_unknown,
    }
    .deserialize(&mut deserializer)
    .ok()?;
    deserializer.end().ok()?;
    Some(slots)
}

struct Object<'f, const N: usize> {
    fields: &'f [&'f str; N],
    allow_unknown: bool,
}

impl<'de, const N: usize> DeserializeSeed<'de> for Object<'_, N> {
    type Value = [Option<Direct>; N];

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de, const N: usize> Visitor<'de> for Object<'_, N> {
    type Value = [Option<Direct>; N];

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut slots = [const { None }; N];
        while let Some(index) = map.next_key_seed(FieldIndex(self.fields))? {
            match index {
                Some(index) if slots[index].is_none() => {
                    slots[index] = Some(map.next_value::<Direct>()?);
                }
                Some(_) => return Err(de::Error::custom("a field given twice")),
                None if self.allow_unknown => {
                    map.next_value::<Skipped>()?;
                }
                None => return Err(de::Error::custom("an unknown field")),
            }
        }
        Ok(slots)
    }
}

/// A value of a field the model does not declare (and allows), read as the `Value`
/// pass reads it but kept nowhere: serde's `IgnoredAny` would skip it without
/// serde_json's checks (the nesting limit, lone surrogates), and accept a body that
/// the `Value` pass refuses.
struct Skipped;

impl<'de> de::Deserialize<'de> for Skipped {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(Skipped)
    }
}

impl<'de> Visitor<'de> for Skipped {
    type Value = Skipped;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Skipped, E> {
        Ok(Skipped)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Skipped, E> {
        Ok(Skipped)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Skipped, E> {
        Ok(Skipped)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Skipped, E> {
        Ok(Skipped)
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Skipped, E> {
        Ok(Skipped)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Skipped, E> {
        Ok(Skipped)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Skipped, A::Error> {
        while seq.next_element::<Skipped>()?.is_some() {}
        Ok(Skipped)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Skipped, A::Error> {
        while map.next_entry::<Skipped, Skipped>()?.is_some() {}
        Ok(Skipped)
    }
}

/// A key, as the index of the field it names (`None`: not a field), read without
/// allocating.
struct FieldIndex<'f>(&'f [&'f str]);

impl<'de> DeserializeSeed<'de> for FieldIndex<'_> {
    type Value = Option<usize>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for FieldIndex<'_> {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Option<usize>, E> {
        Ok(self.0.iter().position(|field| *field == key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIELDS: &[&str; 3] = &["name", "nick", "tags"];

    fn read(body: &str) -> Option<[Option<Direct>; 3]> {
        direct_object(body.as_bytes(), FIELDS, false)
    }

    #[test]
    fn reads_text_fields_into_their_slots() {
        let [name, nick, tags] = read(r#"{"tags": ["a", "b\u00e9"], "name": "x\"y"}"#).unwrap();
        assert_eq!(String::from_direct(name).as_deref(), Some("x\"y"));
        assert_eq!(<Option<String>>::from_direct(nick), Some(None));
        assert_eq!(<Vec<String>>::from_direct(tags).unwrap(), ["a", "bé"]);
        let [_, nick, _] = read(r#"{"nick": null}"#).unwrap();
        assert!(Direct::is_default(&nick));
    }

    #[test]
    fn integers_and_booleans_as_strictly_as_the_value_pass() {
        let [a, b, c] = read(r#"{"name": -3, "nick": 300, "tags": true}"#).unwrap();
        assert_eq!(i8::from_direct(a), Some(-3));
        assert_eq!(u8::from_direct(b), None, "out of range");
        assert_eq!(bool::from_direct(c), Some(true));
        let [a, b, _] = read(r#"{"name": -1, "nick": "1"}"#).unwrap();
        assert_eq!(u32::from_direct(a), None, "negative");
        assert_eq!(i64::from_direct(b), None, "a string is not a number");
        assert!(
            read(r#"{"name": 1.5}"#).is_none(),
            "a fraction goes the long way"
        );
    }

    #[test]
    fn gives_up_on_anything_the_value_pass_must_report() {
        for body in [
            r#"{"tags": ["a", 1]}"#,
            r#"{"tags": ["a", null]}"#,
            r#"{"name": {"a": 1}}"#,
            r#"{"name": "a", "name": "b"}"#,
            r#"{"other": 1}"#,
            r#"{"name": "a"} trailing"#,
            r#"["name"]"#,
            "",
            "{",
        ] {
            assert!(read(body).is_none(), "{body}");
        }
        assert!(direct_object(br#"{"other": [1, {"a": 2.5}]}"#, FIELDS, true).is_some());
        // What the `Value` pass refuses is refused here too, even in a field it skips.
        let deep = format!(r#"{{"other": {}1{}}}"#, "[".repeat(200), "]".repeat(200));
        assert!(direct_object(deep.as_bytes(), FIELDS, true).is_none());
        assert!(serde_json::from_str::<serde_json::Value>(&deep).is_err());
        let surrogate = r#"{"other": "\ud800"}"#;
        assert!(direct_object(surrogate.as_bytes(), FIELDS, true).is_none());
        assert!(serde_json::from_str::<serde_json::Value>(surrogate).is_err());
        let [name, _, _] = read(r#"{"name": ["a"]}"#).unwrap();
        assert!(
            String::from_direct(name).is_none(),
            "a list where a string belongs"
        );
    }
}
