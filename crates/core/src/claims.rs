//! A token's claims as the core's rules read them: one [`Claim`] per name, from a
//! [`Payload`] (a JSON object in memory) or from a [`ClaimsView`] (the claims JSON as
//! signed, read in one pass for the names the rules use, the rest checked and skipped).
//!
//! The view is what a verifier needs: the rules run on it without building a map of every
//! member and string (about a tenth of an HS256 verify in wasm), and the JSON goes out as
//! signed. It reads
//! the JSON exactly as `serde_json::Value` does: one object, every value parsed (numbers in
//! range), the last of a repeated member winning.

use alloc::{string::String, vec::Vec};
use core::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Number, Value};

use crate::token::Payload;

/// One claim, as the rules see it.
#[derive(Debug, Clone, PartialEq)]
pub enum Claim<'c> {
    /// Not in the claims.
    Absent,
    /// A string.
    Str(&'c str),
    /// A number (integer or float, as JSON wrote it).
    Number(Number),
    /// An array; only its string elements can match anything (`aud`).
    List(ClaimList<'c>),
    /// `null`, `true`/`false` or an object.
    Other,
}

impl<'c> Claim<'c> {
    /// The claim if it is a string.
    pub fn as_str(&self) -> Option<&'c str> {
        match self {
            Self::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// An array claim's elements.
#[derive(Debug, Clone, PartialEq)]
pub enum ClaimList<'c> {
    /// A payload's array.
    Values(&'c [Value]),
    /// A view's array: its string elements.
    Strings(&'c [String]),
}

impl ClaimList<'_> {
    /// Whether one element is the string `s`.
    pub fn contains(&self, s: &str) -> bool {
        match self {
            Self::Values(values) => values.iter().any(|v| v.as_str() == Some(s)),
            Self::Strings(strings) => strings.iter().any(|v| v == s),
        }
    }
}

/// Claims the rules can read by name.
pub trait ClaimSource {
    /// The claim `name`. A view answers only for the names it was read for.
    fn claim(&self, name: &str) -> Claim<'_>;
}

impl ClaimSource for Payload {
    fn claim(&self, name: &str) -> Claim<'_> {
        match self.get(name) {
            None => Claim::Absent,
            Some(Value::String(s)) => Claim::Str(s),
            Some(Value::Number(n)) => Claim::Number(n.clone()),
            Some(Value::Array(values)) => Claim::List(ClaimList::Values(values)),
            Some(_) => Claim::Other,
        }
    }
}

/// A string read: where it lies in the JSON when it has no escapes, else its text.
#[derive(Debug, Clone, PartialEq)]
enum Text {
    Span(usize, usize),
    Owned(String),
}

/// A member read.
#[derive(Debug, Clone, PartialEq, Default)]
enum Slot {
    #[default]
    Absent,
    Str(Text),
    Number(Number),
    List(Vec<String>),
    Other,
}

/// The claims JSON of a token, with the members the rules read (`names`) taken out in the
/// one pass that checked it.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimsView<'n> {
    json: String,
    names: &'n [String],
    slots: Vec<Slot>,
}

impl<'n> ClaimsView<'n> {
    /// Reads `json` for `names`, or `None` if it is not one JSON object (as
    /// `serde_json::from_slice::<Value>` would refuse it, or read something else).
    pub fn read(json: Vec<u8>, names: &'n [String]) -> Option<Self> {
        let json = String::from_utf8(json).ok()?;
        let base = json.as_ptr() as usize;
        // Read as a slice, as every other JSON the core reads: one serde_json reader in the
        // package's wasm, not two (its strings are checked as UTF-8 again, a no-op).
        let mut de = serde_json::Deserializer::from_slice(json.as_bytes());
        let slots = (&mut de)
            .deserialize_any(ObjectVisitor { names, base })
            .ok()?;
        de.end().ok()?;
        Some(Self { names, slots, json })
    }

    /// The claims JSON as signed.
    pub fn json(&self) -> &str {
        &self.json
    }

    /// The claims JSON as signed, owned.
    pub fn into_json(self) -> String {
        self.json
    }
}

impl ClaimSource for ClaimsView<'_> {
    fn claim(&self, name: &str) -> Claim<'_> {
        let slot = self
            .names
            .iter()
            .position(|n| n == name)
            .and_then(|i| self.slots.get(i));
        debug_assert!(slot.is_some(), "claim {name} was not read");
        match slot {
            None | Some(Slot::Absent) => Claim::Absent,
            Some(Slot::Str(Text::Span(a, b))) => {
                Claim::Str(self.json.get(*a..*b).unwrap_or_default())
            }
            Some(Slot::Str(Text::Owned(s))) => Claim::Str(s),
            Some(Slot::Number(n)) => Claim::Number(n.clone()),
            Some(Slot::List(strings)) => Claim::List(ClaimList::Strings(strings)),
            Some(Slot::Other) => Claim::Other,
        }
    }
}

/// The error of a claims JSON that is not an object: never shown (callers see `None`).
fn refused<E: de::Error>() -> E {
    E::custom("not an object")
}

/// The top-level object: members in `names` read into slots, the rest skipped.
struct ObjectVisitor<'n> {
    names: &'n [String],
    /// Where the JSON text starts, to record a borrowed string as a span.
    base: usize,
}

impl<'de> Visitor<'de> for ObjectVisitor<'_> {
    type Value = Vec<Slot>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut slots = Vec::new();
        slots.resize(self.names.len(), Slot::Absent);
        while let Some(index) = map.next_key_seed(KeySeed(self.names))? {
            match index.and_then(|i| slots.get_mut(i)) {
                // The last of a repeated member wins, as in a `serde_json::Map`.
                Some(slot) => *slot = map.next_value_seed(SlotSeed(self.base))?,
                None => map.next_value_seed(Skip)?,
            }
        }
        Ok(slots)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Err(refused())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Err(refused())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Err(refused())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Err(refused())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Err(refused())
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Err(refused())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
        Err(refused())
    }
}

/// A member name: its index in `names`, if read.
struct KeySeed<'n>(&'n [String]);

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Option<usize>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = Option<usize>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a member name")
    }
    fn visit_str<E: de::Error>(self, name: &str) -> Result<Self::Value, E> {
        Ok(self.0.iter().position(|n| n == name))
    }
}

/// A member read into a [`Slot`].
struct SlotSeed(usize);

impl<'de> DeserializeSeed<'de> for SlotSeed {
    type Value = Slot;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Slot, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for SlotSeed {
    type Value = Slot;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Slot, E> {
        Ok(Slot::Other)
    }
    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Slot, E> {
        Ok(Slot::Number(n.into()))
    }
    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Slot, E> {
        Ok(Slot::Number(n.into()))
    }
    fn visit_f64<E: de::Error>(self, n: f64) -> Result<Slot, E> {
        // serde_json gives only finite floats; `Value` makes the same `Number`.
        Ok(Number::from_f64(n).map_or(Slot::Other, Slot::Number))
    }
    fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Slot, E> {
        let start = (s.as_ptr() as usize).wrapping_sub(self.0);
        Ok(Slot::Str(Text::Span(start, start + s.len())))
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Slot, E> {
        Ok(Slot::Str(Text::Owned(s.into())))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Slot, E> {
        Ok(Slot::Other)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Slot, A::Error> {
        let mut strings = Vec::new();
        while let Some(item) = seq.next_element_seed(StringOrSkip)? {
            strings.extend(item);
        }
        Ok(Slot::List(strings))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Slot, A::Error> {
        Skip.visit_map(map).map(|()| Slot::Other)
    }
}

/// An array element: its text if a string, else checked and dropped.
struct StringOrSkip;

impl<'de> DeserializeSeed<'de> for StringOrSkip {
    type Value = Option<String>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StringOrSkip {
    type Value = Option<String>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
        Ok(Some(s.into()))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        Skip.visit_seq(seq).map(|()| None)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        Skip.visit_map(map).map(|()| None)
    }
}

/// Any value, parsed as `Value` would parse it (so it is refused where `Value` is: a number
/// out of range, say) and dropped. Not `IgnoredAny`: serde_json skips those unparsed.
struct Skip;

impl<'de> DeserializeSeed<'de> for Skip {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Skip {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Skip)?.is_some() {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_key_seed(KeySeed(&[]))?.is_some() {
            map.next_value_seed(Skip)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::{borrow::ToOwned, format, vec};

    fn names() -> Vec<String> {
        ["exp", "aud", "jti", "user_id", "sub"]
            .map(str::to_owned)
            .to_vec()
    }

    /// What the view reads is what a `Payload` of the same JSON answers, for every name.
    fn same_as_payload(json: &str) {
        let value: Result<Value, _> = serde_json::from_str(json);
        let names = names();
        let view = ClaimsView::read(json.as_bytes().to_vec(), &names);
        match value {
            Ok(Value::Object(map)) => {
                let view = view.unwrap_or_else(|| panic!("view refused {json}"));
                let payload = Payload::from_map(map);
                for name in &names {
                    let (a, b) = (view.claim(name), payload.claim(name));
                    match (&a, &b) {
                        (Claim::List(x), Claim::List(y)) => {
                            for probe in ["a", "b", "é", "1"] {
                                assert_eq!(x.contains(probe), y.contains(probe), "{json} {name}");
                            }
                        }
                        _ => assert_eq!(a, b, "{json} {name}"),
                    }
                }
                assert_eq!(view.json(), json);
            }
            _ => assert!(view.is_none(), "view read {json}"),
        }
    }

    #[test]
    fn reads_as_value_does() {
        for json in [
            r#"{"exp":1700000000,"jti":"abc","user_id":"1"}"#,
            r#"{"exp":1.5e9,"user_id":12,"sub":null}"#,
            r#"{"exp":-3,"user_id":18446744073709551615,"aud":["a",1,{"b":2},"\u00e9"]}"#,
            r#"{"jti":"a\"b","jti":"last wins","aud":"b","x":{"y":[1,2,{"z":null}]}}"#,
            r#" { "user_id" : true , "exp" : {} } "#,
            r#"{"aud":[],"sub":[["a"]],"exp":"1700000000"}"#,
            r#"{}"#,
            // Refused as `Value` refuses them.
            r#"{"x":1e400}"#,
            r#"{"exp":1e400}"#,
            r#"{"aud":[1e999]}"#,
            r#"[{"exp":1}]"#,
            r#""exp""#,
            r#"1"#,
            r#"null"#,
            r#"{"exp":1} x"#,
            r#"{"exp":1,}"#,
            r#"{"exp":01}"#,
            r#"{"a":"\ud800"}"#,
            "{\"a\":\"\u{1}\"}",
        ] {
            same_as_payload(json);
        }
        let deep = format!("{}1{}", r#"{"a":["#.repeat(200), "]}".repeat(200));
        same_as_payload(&deep);
    }

    #[test]
    fn refuses_invalid_utf8() {
        assert!(
            ClaimsView::read(vec![b'{', b'"', 0xff, b'"', b':', b'1', b'}'], &names()).is_none()
        );
    }
}
