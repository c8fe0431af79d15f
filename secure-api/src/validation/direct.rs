//! The fast way in for a model whose fields are all text (`String`, `Option<String>`,
//! `Vec<String>`): the body deserialized straight into the fields, with no
//! `serde_json::Value` tree in between. It gives up (`None`) at the first thing it does
//! not expect (a wrong type, an unknown or repeated field, a missing one, not JSON);
//! the caller then reads the body through a `Value`, the pass that reports every
//! problem. So a body read here holds exactly what that pass would have read, and
//! its rules, checked in the same order, report the same errors.

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// One field's value as the body wrote it.
pub enum Direct {
    /// `null`.
    Null,
    /// A string.
    Text(String),
    /// An array of strings.
    Texts(Vec<String>),
}

impl Direct {
    /// A `String` field: present, and a string.
    #[inline]
    pub fn text(slot: Option<Direct>) -> Option<String> {
        match slot {
            Some(Direct::Text(text)) => Some(text),
            _ => None,
        }
    }

    /// An `Option<String>` field: absent, `null`, or a string.
    #[inline]
    pub fn optional_text(slot: Option<Direct>) -> Option<Option<String>> {
        match slot {
            None | Some(Direct::Null) => Some(None),
            Some(Direct::Text(text)) => Some(Some(text)),
            Some(Direct::Texts(_)) => None,
        }
    }

    /// A `Vec<String>` field: present, and an array of strings.
    #[inline]
    pub fn texts(slot: Option<Direct>) -> Option<Vec<String>> {
        match slot {
            Some(Direct::Texts(texts)) => Some(texts),
            _ => None,
        }
    }

    /// Whether a field with a default takes it: absent or `null`, as the `Value`
    /// pass decides.
    #[inline]
    pub fn is_default(slot: &Option<Direct>) -> bool {
        matches!(slot, None | Some(Direct::Null))
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
        f.write_str("a string, an array of strings or null")
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
                    map.next_value::<IgnoredAny>()?;
                }
                None => return Err(de::Error::custom("an unknown field")),
            }
        }
        Ok(slots)
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
        assert_eq!(Direct::text(name).as_deref(), Some("x\"y"));
        assert_eq!(Direct::optional_text(nick), Some(None));
        assert_eq!(Direct::texts(tags).unwrap(), ["a", "bé"]);
        let [_, nick, _] = read(r#"{"nick": null}"#).unwrap();
        assert!(Direct::is_default(&nick));
    }

    #[test]
    fn gives_up_on_anything_the_value_pass_must_report() {
        for body in [
            r#"{"name": 1}"#,
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
        assert!(direct_object(br#"{"other": [1, {}]}"#, FIELDS, true).is_some());
        let [name, _, _] = read(r#"{"name": ["a"]}"#).unwrap();
        assert!(
            Direct::text(name).is_none(),
            "a list where a string belongs"
        );
    }
}
