//! A broken rule's parameters ([`Params`]): the bounds, the allowed values, ...,
//! kept as typed values that borrow the rule's `'static` text where they can, and
//! are written straight into the answer, without a `serde_json::Value` in between.

use poem_openapi::types::{ParseError, ParseFromJSON, ParseResult, ToJSON};
use serde::{Serialize, Serializer, ser::SerializeMap};
use serde_json::{Number, Value};
use std::{borrow::Cow, collections::BTreeMap, fmt, ops::Index};

/// The value of one parameter of a broken rule.
///
/// Built from numbers, text, lists of `'static` text, or any JSON value; compares
/// with them, as `serde_json::Value` does.
///
/// ```
/// use secure_api::validation::ParamValue;
/// use serde_json::json;
///
/// assert_eq!(ParamValue::from(3), 3);
/// assert_eq!(ParamValue::from("x"), "x");
/// assert_eq!(ParamValue::from(&["a", "b"][..]), json!(["a", "b"]));
/// ```
#[derive(Debug, Clone)]
pub enum ParamValue {
    /// A number (a bound, an index, ...).
    Number(Number),
    /// Text: borrowed when it is the rule's own `'static` text.
    Text(Cow<'static, str>),
    /// A list of `'static` text (the allowed values of `one_of`, the declared fields).
    Texts(&'static [&'static str]),
    /// Any other JSON value.
    Json(Value),
}

impl ParamValue {
    /// The value as JSON.
    ///
    /// ```
    /// # use secure_api::validation::ParamValue;
    /// assert_eq!(ParamValue::from(2).to_json(), serde_json::json!(2));
    /// ```
    pub fn to_json(&self) -> Value {
        match self {
            ParamValue::Number(number) => Value::Number(number.clone()),
            ParamValue::Text(text) => Value::String(text.clone().into_owned()),
            ParamValue::Texts(texts) => Value::from(*texts),
            ParamValue::Json(value) => value.clone(),
        }
    }
}

impl From<Value> for ParamValue {
    fn from(value: Value) -> Self {
        match value {
            Value::Number(number) => ParamValue::Number(number),
            Value::String(text) => ParamValue::Text(Cow::Owned(text)),
            other => ParamValue::Json(other),
        }
    }
}

impl From<&str> for ParamValue {
    fn from(text: &str) -> Self {
        ParamValue::Text(Cow::Owned(text.to_owned()))
    }
}

impl From<String> for ParamValue {
    fn from(text: String) -> Self {
        ParamValue::Text(Cow::Owned(text))
    }
}

impl From<Cow<'static, str>> for ParamValue {
    fn from(text: Cow<'static, str>) -> Self {
        ParamValue::Text(text)
    }
}

impl From<&'static [&'static str]> for ParamValue {
    fn from(texts: &'static [&'static str]) -> Self {
        ParamValue::Texts(texts)
    }
}

impl<T: Into<Value>> From<Vec<T>> for ParamValue {
    fn from(items: Vec<T>) -> Self {
        ParamValue::Json(Value::from(items))
    }
}

macro_rules! from_scalar {
    ($($ty:ty),*) => {$(
        impl From<$ty> for ParamValue {
            fn from(value: $ty) -> Self {
                ParamValue::from(Value::from(value))
            }
        }

        impl PartialEq<$ty> for ParamValue {
            fn eq(&self, other: &$ty) -> bool {
                self.to_json() == *other
            }
        }
    )*};
}

from_scalar!(
    i8, i16, i32, i64, isize, u8, u16, u32, u64, usize, f32, f64, bool
);

impl PartialEq for ParamValue {
    fn eq(&self, other: &ParamValue) -> bool {
        self.to_json() == other.to_json()
    }
}

impl PartialEq<Value> for ParamValue {
    fn eq(&self, other: &Value) -> bool {
        self.to_json() == *other
    }
}

impl PartialEq<str> for ParamValue {
    fn eq(&self, other: &str) -> bool {
        matches!(self, ParamValue::Text(text) if text == other)
    }
}

impl PartialEq<&str> for ParamValue {
    fn eq(&self, other: &&str) -> bool {
        self == *other
    }
}

impl Serialize for ParamValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            ParamValue::Number(number) => number.serialize(serializer),
            ParamValue::Text(text) => serializer.serialize_str(text),
            ParamValue::Texts(texts) => texts.serialize(serializer),
            ParamValue::Json(value) => value.serialize(serializer),
        }
    }
}

impl fmt::Display for ParamValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamValue::Text(text) => f.write_str(text),
            other => other.to_json().fmt(f),
        }
    }
}

/// The parameters of a broken rule (`min`, `max`, `allowed`, `pattern`, ...), by
/// name, listed in the order of their names (as a JSON object of them).
///
/// ```
/// use secure_api::validation::RuleError;
///
/// let error = RuleError::new("length", "must be 3 to 50 characters long")
///     .param("min", 3)
///     .param("max", 50);
/// let names: Vec<&str> = error.params().iter().map(|(name, _)| name).collect();
/// assert_eq!(names, ["max", "min"]);
/// assert_eq!(error.params()["min"], 3);
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Params {
    // Kept sorted by name; a rule has a handful at most, so a vector beats a map.
    // Borrowed when the error is a built-in rule's, built once.
    entries: Cow<'static, [(Cow<'static, str>, ParamValue)]>,
}

impl Params {
    /// No parameter.
    pub const fn new() -> Self {
        Params {
            entries: Cow::Borrowed(&[]),
        }
    }

    /// These parameters, sorted by name, borrowed for good (a rule's constant error).
    pub(crate) const fn from_static(entries: &'static [(Cow<'static, str>, ParamValue)]) -> Self {
        Params {
            entries: Cow::Borrowed(entries),
        }
    }

    /// The same parameters, borrowed from these (which live for good).
    pub(crate) fn borrowed(&'static self) -> Params {
        Params::from_static(&self.entries)
    }

    /// Sets `name` to `value`, replacing an earlier value of the same name.
    ///
    /// ```
    /// # use secure_api::validation::Params;
    /// let mut params = Params::new();
    /// params.insert("max", 5);
    /// params.insert("max", 6);
    /// assert_eq!(params.len(), 1);
    /// assert_eq!(params["max"], 6);
    /// ```
    pub fn insert(&mut self, name: impl Into<Cow<'static, str>>, value: impl Into<ParamValue>) {
        let name = name.into();
        let value = value.into();
        match self
            .entries
            .binary_search_by(|(other, _)| other.as_ref().cmp(name.as_ref()))
        {
            Ok(found) => self.entries.to_mut()[found].1 = value,
            Err(at) => {
                let entries = self.entries.to_mut();
                if entries.capacity() == 0 {
                    // Most rules have one or two parameters: one allocation.
                    entries.reserve_exact(2);
                }
                entries.insert(at, (name, value));
            }
        }
    }

    /// The value of `name`.
    ///
    /// ```
    /// # use secure_api::validation::Params;
    /// assert!(Params::new().get("max").is_none());
    /// ```
    pub fn get(&self, name: &str) -> Option<&ParamValue> {
        self.entries
            .binary_search_by(|(other, _)| other.as_ref().cmp(name))
            .ok()
            .map(|found| &self.entries[found].1)
    }

    /// Whether `name` is set.
    ///
    /// ```
    /// # use secure_api::validation::Params;
    /// assert!(!Params::new().contains_key("max"));
    /// ```
    pub fn contains_key(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// How many parameters there are.
    ///
    /// ```
    /// # use secure_api::validation::Params;
    /// assert_eq!(Params::new().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there is none.
    ///
    /// ```
    /// # use secure_api::validation::Params;
    /// assert!(Params::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Each name and value, in the order of the names.
    ///
    /// ```
    /// # use secure_api::validation::Params;
    /// assert_eq!(Params::new().iter().count(), 0);
    /// ```
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &ParamValue)> {
        self.entries
            .iter()
            .map(|(name, value)| (name.as_ref(), value))
    }

    /// The parameters as a JSON object.
    ///
    /// ```
    /// # use secure_api::validation::Params;
    /// let mut params = Params::new();
    /// params.insert("max", 5);
    /// assert_eq!(params.to_json(), serde_json::json!({"max": 5}));
    /// ```
    pub fn to_json(&self) -> Value {
        Value::Object(
            self.iter()
                .map(|(name, value)| (name.to_owned(), value.to_json()))
                .collect(),
        )
    }
}

impl Index<&str> for Params {
    type Output = ParamValue;

    /// The value of `name`; panics when there is none, as a map's index does.
    fn index(&self, name: &str) -> &ParamValue {
        match self.get(name) {
            Some(value) => value,
            None => panic!("the rule has no parameter named {name:?}"),
        }
    }
}

impl Serialize for Params {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.entries.len()))?;
        for (name, value) in self.entries.iter() {
            map.serialize_entry(name.as_ref(), value)?;
        }
        map.end()
    }
}

/// `impl Type for $ty`, documented as `$doc` (a type poem-openapi can describe that
/// is written the same way): for types that borrow what poem-openapi's types own.
/// Extra items go into the impl.
macro_rules! type_documented_as {
    ($ty:ty, $doc:ty $(, $extra:item)*) => {
        impl ::poem_openapi::types::Type for $ty {
            const IS_REQUIRED: bool = true;
            type RawValueType = Self;
            type RawElementValueType = Self;

            fn name() -> ::std::borrow::Cow<'static, str> {
                <$doc as ::poem_openapi::types::Type>::name()
            }

            fn schema_ref() -> ::poem_openapi::registry::MetaSchemaRef {
                <$doc as ::poem_openapi::types::Type>::schema_ref()
            }

            fn register(registry: &mut ::poem_openapi::registry::Registry) {
                <$doc as ::poem_openapi::types::Type>::register(registry);
            }

            fn as_raw_value(&self) -> Option<&Self> {
                Some(self)
            }

            fn raw_element_iter<'a>(
                &'a self,
            ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
                Box::new(std::iter::once(self))
            }

            $($extra)*
        }
    };
}
pub(crate) use type_documented_as;

// Documented as the JSON object it is written as: the same schema as a map of
// names to any value.
type_documented_as!(
    Params,
    BTreeMap<String, Value>,
    fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
);

impl ToJSON for Params {
    fn to_json(&self) -> Option<Value> {
        Some(Params::to_json(self))
    }
}

impl ParseFromJSON for Params {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        let map = <BTreeMap<String, Value> as ParseFromJSON>::parse_from_json(value)
            .map_err(ParseError::propagate)?;
        let mut params = Params::new();
        for (name, value) in map {
            params.insert(name, value);
        }
        Ok(params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn written_as_the_object_a_map_would_be() {
        let mut params = Params::new();
        params.insert("min", 3);
        params.insert("allowed", &["a", "b"][..]);
        params.insert("pattern", Cow::Borrowed("^x$"));
        params.insert("any", json!({"k": [1, null]}));
        params.insert("ratio", 0.5);
        let mut map = BTreeMap::new();
        map.insert("min".to_owned(), json!(3));
        map.insert("allowed".to_owned(), json!(["a", "b"]));
        map.insert("pattern".to_owned(), json!("^x$"));
        map.insert("any".to_owned(), json!({"k": [1, null]}));
        map.insert("ratio".to_owned(), json!(0.5));
        assert_eq!(
            serde_json::to_string(&params).unwrap(),
            serde_json::to_string(&map).unwrap()
        );
        assert_eq!(params.to_json(), json!(map));
        let read = Params::parse_from_json(Some(json!(map))).unwrap();
        assert_eq!(read, params);
    }

    #[test]
    fn a_name_set_twice_keeps_the_last_value() {
        let mut params = Params::new();
        params.insert("max", 1);
        params.insert("max", "two");
        assert_eq!(params.len(), 1);
        assert_eq!(params["max"], "two");
        assert!(params.get("min").is_none());
    }
}
