//! JSON objects whose string members are read by name: a token's header, a JWK. Read as a
//! `#[derive(Deserialize)]` struct of `Cow<str>` / `Option<Cow<str>>` fields reads them
//! (members named twice refused, other members skipped unread, JSON syntax only), but with
//! no serde type errors: those format `Unexpected::Float` with core's float formatting,
//! ~17 KiB of the npm package's wasm. A token's claims are read by [`crate::claims`], whose
//! visitors take every JSON value; a list of keys is read by [`read_key_list`]. No
//! `serde_json::Value` is read in the package's wasm (it and its map were 6.5 KiB gzipped);
//! builds with `rsa` also read JWKs with jwt-compact's typed reader.

use alloc::{borrow::Cow, vec::Vec};
use core::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// Most members one [`Fields`] reads.
const MAX: usize = 8;

/// A member read, by its place in [`Fields::names`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) enum Member<'a> {
    /// Not in the object.
    #[default]
    Absent,
    /// `null`.
    Null,
    /// A string.
    Str(Cow<'a, str>),
    /// Any value, skipped unread (a member in [`Fields::skipped`]).
    Present,
}

impl<'a> Member<'a> {
    /// The member as `Option<Cow<str>>` with `#[serde(default)]`: absent or `null` is `None`.
    pub(crate) fn into_str(self) -> Option<Cow<'a, str>> {
        match self {
            Self::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// Which members of an object to read.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fields {
    /// Their names (at most [`MAX`]); each must be a string or `null`, unless skipped.
    pub names: &'static [&'static str],
    /// Bit `i` set: `names[i]` may hold any value, skipped unread (as `serde::de::IgnoredAny`).
    pub skipped: u8,
}

/// The object `json` with `fields` read, or `None` for input a derived struct refuses: not
/// one JSON object (a leading `[`, which such a struct reads as a sequence, is refused too),
/// a member read that is neither a string nor `null`, or named twice.
pub(crate) fn read_object(json: &[u8], fields: Fields) -> Option<[Member<'_>; MAX]> {
    // As `serde_json::from_slice`: the value, then nothing but whitespace.
    let mut de = serde_json::Deserializer::from_slice(json);
    let members = (&mut de).deserialize_any(ObjectVisitor(fields)).ok()?;
    de.end().ok()?;
    Some(members)
}

/// The error of every refusal: its text is never shown (callers see `None`).
fn refused<E: de::Error>() -> E {
    E::custom("refused")
}

/// Refuses every value a visitor does not take (the default methods would build a serde type
/// error, and with it the float formatting this module avoids).
macro_rules! refuse_others {
    ($($method:ident($($arg:ty)?)),*) => {
        $(fn $method<E: de::Error>(self $(, _: $arg)?) -> Result<Self::Value, E> {
            Err(refused())
        })*
    };
}

/// An object member's name, matched against [`Fields::names`].
struct Key(Option<usize>);

struct KeyVisitor(&'static [&'static str]);

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Key;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a member name")
    }
    fn visit_str<E: de::Error>(self, name: &str) -> Result<Key, E> {
        Ok(Key(self.0.iter().position(|n| *n == name)))
    }
    refuse_others!(
        visit_bool(bool),
        visit_i64(i64),
        visit_u64(u64),
        visit_f64(f64),
        visit_unit()
    );
}

impl<'de> de::DeserializeSeed<'de> for KeyVisitor {
    type Value = Key;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Key, D::Error> {
        d.deserialize_str(self)
    }
}

/// A member read: a string (borrowed when it has no escapes) or `null`.
struct StrOrNull;

impl<'de> Visitor<'de> for StrOrNull {
    type Value = Member<'de>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or null")
    }
    fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Self::Value, E> {
        Ok(Member::Str(Cow::Borrowed(s)))
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
        Ok(Member::Str(Cow::Owned(s.into())))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Member::Null)
    }
    refuse_others!(
        visit_bool(bool),
        visit_i64(i64),
        visit_u64(u64),
        visit_f64(f64)
    );
    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
        Err(refused())
    }
    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
        Err(refused())
    }
}

impl<'de> de::DeserializeSeed<'de> for StrOrNull {
    type Value = Member<'de>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

/// The object visitor: `fields` read, everything else skipped.
struct ObjectVisitor(Fields);

impl<'de> Visitor<'de> for ObjectVisitor {
    type Value = [Member<'de>; MAX];
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut members: [Member<'de>; MAX] = Default::default();
        while let Some(Key(index)) = map.next_key_seed(KeyVisitor(self.0.names))? {
            let Some((i, member)) = index.and_then(|i| Some((i, members.get_mut(i)?))) else {
                map.next_value::<IgnoredAny>()?;
                continue;
            };
            if *member != Member::Absent {
                return Err(refused());
            }
            *member = if self.0.skipped & (1 << i) != 0 {
                map.next_value::<IgnoredAny>()?;
                Member::Present
            } else {
                map.next_value_seed(StrOrNull)?
            };
        }
        Ok(members)
    }
    refuse_others!(
        visit_bool(bool),
        visit_i64(i64),
        visit_u64(u64),
        visit_f64(f64),
        visit_str(&str),
        visit_unit()
    );
    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
        Err(refused())
    }
}

/// One entry of a list of keys (`PREVIOUS_VERIFYING_KEYS`).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ListedKey<'a> {
    /// A string: PEM text or a secret.
    Text(Cow<'a, str>),
    /// An object: a JWK, as the JSON text it is written in.
    Jwk(&'a str),
    /// Any other value.
    Other,
}

/// Why [`read_key_list`] read no list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyListError {
    /// Not JSON, or JSON that is neither an array nor an object.
    NotAList,
    /// An object without an array as `keys`.
    NotASet,
    /// More than the maximum of keys.
    TooMany,
}

/// A JSON array of keys, or a JWK Set (`{"keys": [...]}`, other members ignored), holding at
/// most `max` keys, each object kept as the JSON text it is written in (to be read as a JWK by
/// the key loader). serde_json checks the JSON and its shape first; the texts are then cut
/// out of the checked text at its top-level commas ([`split`]): serde_json's `RawValue`,
/// which would give them, brings core's float formatting into the npm package's wasm.
#[cfg_attr(edgejwt_size, optimize(size))]
pub(crate) fn read_key_list(json: &[u8], max: usize) -> Result<Vec<ListedKey<'_>>, KeyListError> {
    let mut de = serde_json::Deserializer::from_slice(json);
    let shape = (&mut de)
        .deserialize_any(KeyList { max, top: true })
        .map_err(|_: serde_json::Error| KeyListError::NotAList)?;
    de.end().map_err(|_| KeyListError::NotAList)?;
    let text = core::str::from_utf8(json).map_err(|_| KeyListError::NotAList)?;
    let array = match shape? {
        None => text.trim(),
        // The member's name, `:`, then the array.
        Some(member) => {
            let member = split(text.trim())
                .into_iter()
                .nth(member)
                .unwrap_or_default();
            let colon = structural(member).find(|&(_, b)| b == b':');
            let value = colon.and_then(|(i, _)| member.get(i + 1..));
            value.unwrap_or_default().trim()
        }
    };
    Ok(split(array)
        .into_iter()
        .map(|item| match item.as_bytes().first() {
            Some(b'"') => {
                let mut de = serde_json::Deserializer::from_slice(item.as_bytes());
                match de::DeserializeSeed::deserialize(StrOrNull, &mut de) {
                    Ok(Member::Str(s)) => ListedKey::Text(s),
                    _ => ListedKey::Other,
                }
            }
            Some(b'{') => ListedKey::Jwk(item),
            _ => ListedKey::Other,
        })
        .collect())
}

/// The texts between the top-level commas of `container`, a JSON array or object that
/// serde_json accepted (so brackets balance and strings close), each trimmed: the array's
/// values, the object's `"name": value` members. Empty for `[]` and `{}`.
#[cfg_attr(edgejwt_size, optimize(size))]
fn split(container: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0usize, 1usize);
    for (i, b) in structural(container) {
        match b {
            b'[' | b'{' => depth += 1,
            b',' if depth == 1 => {
                parts.push(container.get(start..i).unwrap_or_default().trim());
                start = i + 1;
            }
            b']' | b'}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    let last = container.get(start..i).unwrap_or_default().trim();
                    if !last.is_empty() || !parts.is_empty() {
                        parts.push(last);
                    }
                    break;
                }
            }
            _ => {}
        }
    }
    parts
}

/// The bytes of JSON `text` outside its strings, with their indices: brackets, commas and
/// colons there are JSON's own, never a string's.
fn structural(text: &str) -> impl Iterator<Item = (usize, u8)> + '_ {
    let (mut in_string, mut escaped) = (false, false);
    text.bytes().enumerate().filter(move |&(_, b)| {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            false
        } else {
            in_string = b == b'"';
            !in_string
        }
    })
}

/// The visitor of [`read_key_list`]: the list's shape (`None`: the top-level array;
/// `Some(i)`: the array of the Set's `i`-th member, `keys`), its length checked. `top`: the
/// whole value (an array or a JWK Set), not the Set's `keys` (an array only).
struct KeyList {
    max: usize,
    top: bool,
}

type Shape = Result<Option<usize>, KeyListError>;

impl KeyList {
    fn not_a_list<E>(&self) -> Result<Shape, E> {
        Ok(Err(if self.top {
            KeyListError::NotAList
        } else {
            KeyListError::NotASet
        }))
    }
}

impl<'de> Visitor<'de> for KeyList {
    type Value = Shape;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of keys")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Shape, A::Error> {
        let mut count = 0;
        while seq.next_element::<IgnoredAny>()?.is_some() {
            count += 1;
        }
        Ok(if count > self.max {
            Err(KeyListError::TooMany)
        } else {
            Ok(None)
        })
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Shape, A::Error> {
        if !self.top {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            return self.not_a_list();
        }
        let mut keys = None;
        let mut members = 0;
        while let Some(Key(index)) = map.next_key_seed(KeyVisitor(&["keys"]))? {
            if index.is_none() {
                map.next_value::<IgnoredAny>()?;
            } else if keys.is_some() {
                // `keys` twice: which one is the Set?
                return Err(refused());
            } else {
                let list = map.next_value_seed(KeyList {
                    max: self.max,
                    top: false,
                })?;
                keys = Some(list.map(|_| Some(members)));
            }
            members += 1;
        }
        Ok(keys.unwrap_or(Err(KeyListError::NotASet)))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Shape, E> {
        self.not_a_list()
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Shape, E> {
        self.not_a_list()
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Shape, E> {
        self.not_a_list()
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Shape, E> {
        self.not_a_list()
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Shape, E> {
        self.not_a_list()
    }
    fn visit_unit<E: de::Error>(self) -> Result<Shape, E> {
        self.not_a_list()
    }
}

impl<'de> de::DeserializeSeed<'de> for KeyList {
    type Value = Shape;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Shape, D::Error> {
        d.deserialize_any(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::{
        string::{String, ToString},
        vec,
    };
    use proptest::prelude::*;
    use serde_json::{json, Value};

    fn texts(json: &str) -> Result<Vec<String>, KeyListError> {
        read_key_list(json.as_bytes(), 16).map(|keys| {
            keys.into_iter()
                .map(|k| match k {
                    ListedKey::Text(t) => alloc::format!("text:{t}"),
                    ListedKey::Jwk(j) => alloc::format!("jwk:{j}"),
                    ListedKey::Other => "other".into(),
                })
                .collect()
        })
    }

    /// Objects come back as written, strings unescaped, whatever commas and brackets the
    /// strings hold; in a Set, whichever member `keys` is (its name escaped too).
    #[test]
    fn key_lists_and_sets() {
        assert_eq!(texts(" [ ] "), Ok(vec![]));
        assert_eq!(
            texts(r#"[ "a,]}" , {"kty":"oct","k":"[,{\"}"} ,1, null,["x"]]"#),
            Ok(vec![
                "text:a,]}".into(),
                r#"jwk:{"kty":"oct","k":"[,{\"}"}"#.into(),
                "other".into(),
                "other".into(),
                "other".into(),
            ])
        );
        assert_eq!(texts(r#"["\u0041\n"]"#), Ok(vec!["text:A\n".into()]));
        let set =
            r#"{"x":"],{\"keys\":", "y":[1,{"keys":[]}], "k\u0065ys" : [ {"a":"b"} ,"s"], "z":{}}"#;
        assert_eq!(
            texts(set),
            Ok(vec![r#"jwk:{"a":"b"}"#.into(), "text:s".into()])
        );
        assert_eq!(texts(r#"{"keys":[]}"#), Ok(vec![]));
    }

    #[test]
    fn what_is_not_a_key_list() {
        use KeyListError::*;
        for (json, error) in [
            ("", NotAList),
            ("\"[]\"", NotAList),
            ("1", NotAList),
            ("null", NotAList),
            ("[1", NotAList),
            ("[1,]", NotAList),
            ("[] []", NotAList),
            (r#"{"keys":[],"keys":[]}"#, NotAList),
            ("{}", NotASet),
            (r#"{"key":[]}"#, NotASet),
            (r#"{"keys":"a"}"#, NotASet),
            (r#"{"keys":{"a":[]}}"#, NotASet),
            (r#"{"keys":null}"#, NotASet),
        ] {
            assert_eq!(texts(json), Err(error), "{json}");
        }
        let many = serde_json::to_string(&vec!["k"; 17]).unwrap();
        assert_eq!(texts(&many), Err(TooMany));
        let set = json!({ "keys": vec!["k"; 17] }).to_string();
        assert_eq!(texts(&set), Err(TooMany));
        assert_eq!(
            texts(&serde_json::to_string(&vec!["k"; 16]).unwrap()).map(|t| t.len()),
            Ok(16)
        );
    }

    fn any_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i32>().prop_map(Value::from),
            "[\\[\\]{},:\"\\\\a-z \u{e9}\u{1F600}\n]{0,8}".prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                prop::collection::btree_map("[\\[\\]{},:\"a-z]{0,4}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// Cross-checked with serde_json's own values: each listed text, read again, is the
        /// element it was cut from, in arrays written compactly or pretty.
        #[test]
        fn cut_texts_are_the_elements(items in prop::collection::vec(any_json(), 0..6), pretty: bool) {
            let array = Value::from(items.clone());
            let json = if pretty { serde_json::to_string_pretty(&array) } else { serde_json::to_string(&array) }.unwrap();
            let keys = read_key_list(json.as_bytes(), 16).unwrap();
            prop_assert_eq!(keys.len(), items.len());
            for (key, item) in keys.iter().zip(&items) {
                match (key, item) {
                    (ListedKey::Text(t), Value::String(s)) => prop_assert_eq!(t.as_ref(), s.as_str()),
                    (ListedKey::Jwk(j), Value::Object(_)) => {
                        prop_assert_eq!(&serde_json::from_str::<Value>(j).unwrap(), item)
                    }
                    (ListedKey::Other, v) => prop_assert!(!v.is_string() && !v.is_object()),
                    _ => prop_assert!(false, "{key:?} for {item}"),
                }
            }
        }
    }
}
