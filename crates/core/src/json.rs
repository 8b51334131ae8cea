//! JSON objects whose string members are read by name: a token's header, a JWK. Read as a
//! `#[derive(Deserialize)]` struct of `Cow<str>` / `Option<Cow<str>>` fields reads them
//! (members named twice refused, other members skipped unread, JSON syntax only), but with
//! no serde type errors: those format `Unexpected::Float` with core's float formatting,
//! ~17 KiB of the npm package's wasm. A token's claims are read by [`crate::claims`], whose
//! visitors take every JSON value; other JSON the package's core parses is a
//! `serde_json::Value` (no type error either); builds with `rsa` also read JWKs with
//! jwt-compact's typed reader.

use alloc::borrow::Cow;
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
