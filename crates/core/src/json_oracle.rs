//! The serde_json readers [`crate::json`] replaced, kept as its tests' oracle: what they
//! accept and read, the new reader must.

use alloc::borrow::Cow;
use core::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::json::{Fields, KeyListError, Member, MAX};

/// The old `read_object`.
pub(crate) fn read_object(json: &[u8], fields: Fields) -> Option<[Member<'_>; MAX]> {
    let mut de = serde_json::Deserializer::from_slice(json);
    let members = (&mut de).deserialize_any(ObjectVisitor(fields)).ok()?;
    de.end().ok()?;
    Some(members)
}

/// The old key list's shape check (`None`: serde_json refused the JSON).
pub(crate) fn key_list_shape(json: &[u8], max: usize) -> Option<Shape> {
    let mut de = serde_json::Deserializer::from_slice(json);
    let shape = (&mut de).deserialize_any(KeyList { max, top: true }).ok()?;
    de.end().ok()?;
    Some(shape)
}

/// The old reading of a listed string.
pub(crate) fn listed_string(item: &str) -> Option<Cow<'_, str>> {
    let mut de = serde_json::Deserializer::from_slice(item.as_bytes());
    match de::DeserializeSeed::deserialize(StrOrNull, &mut de) {
        Ok(Member::Str(s)) => Some(s),
        _ => None,
    }
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

/// The visitor of [`read_key_list`]: the list's shape (`None`: the top-level array;
/// `Some(i)`: the array of the Set's `i`-th member, `keys`), its length checked. `top`: the
/// whole value (an array or a JWK Set), not the Set's `keys` (an array only).
struct KeyList {
    max: usize,
    top: bool,
}

pub(crate) type Shape = Result<Option<usize>, KeyListError>;

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
