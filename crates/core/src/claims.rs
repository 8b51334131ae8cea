//! A token's claims as the core's rules read them: one [`Claim`] per name, from a
//! [`Payload`] (a JSON object in memory) or from a [`ClaimsView`] (the claims JSON as
//! signed, read in one pass for the names the rules use, the rest checked and skipped).
//!
//! The view is what a verifier needs: the rules run on it without building a map of every
//! member and string (about a tenth of an HS256 verify in wasm), and the JSON goes out as
//! signed. It reads
//! the JSON exactly as `serde_json::Value` does: one object, every value parsed (numbers in
//! range), the last of a repeated member winning.

use alloc::{borrow::Cow, string::String, vec::Vec};

use serde_json::{Number, Value};

use crate::json::{Num, Reader};
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
    /// The claim as Unix seconds if it is a number, as Python's `int()` takes a time claim:
    /// an integer as is, a float truncated (saturating at the ends of `i64`).
    pub fn seconds(&self) -> Option<i64> {
        #[allow(
            clippy::cast_possible_truncation,
            reason = "Python's int() truncates too"
        )]
        match self {
            Self::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
            _ => None,
        }
    }

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
        let mut r = Reader::new(json.as_bytes());
        r.object()?;
        let mut slots = Vec::new();
        slots.resize(names.len(), Slot::Absent);
        let mut first = true;
        while let Some(name) = r.key(&mut first)? {
            match names
                .iter()
                .position(|n| *n == name)
                .and_then(|i| slots.get_mut(i))
            {
                // The last of a repeated member wins, as in a `serde_json::Map`.
                Some(slot) => *slot = read_slot(&mut r)?,
                None => r.value()?,
            }
        }
        r.end()?;
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

/// A member read: every value checked as `Value` reads it.
fn read_slot(r: &mut Reader<'_>) -> Option<Slot> {
    Some(match r.peek()? {
        b'"' => Slot::Str(match r.string()? {
            Cow::Borrowed(s) => {
                let (start, end) = r.span(s);
                Text::Span(start, end)
            }
            Cow::Owned(s) => Text::Owned(s),
        }),
        b'-' | b'0'..=b'9' => match r.number()? {
            Num::U64(n) => Slot::Number(n.into()),
            Num::I64(n) => Slot::Number(n.into()),
            // Always finite: infinity is refused.
            Num::F64(n) => Number::from_f64(n).map_or(Slot::Other, Slot::Number),
        },
        b'[' => {
            // Only its strings can match anything (`aud`); the rest is checked and dropped.
            r.array()?;
            let (mut strings, mut first) = (Vec::new(), true);
            while r.element(&mut first)? {
                if r.peek()? == b'"' {
                    strings.push(r.string()?.into_owned());
                } else {
                    r.value()?;
                }
            }
            Slot::List(strings)
        }
        _ => {
            r.value()?;
            Slot::Other
        }
    })
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

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(10_000))]

        /// Generated JSON, as is and as a member's value: read as `Value` reads it.
        #[test]
        fn generated_claims_read_as_value_does(json in crate::json::tests::jsonish()) {
            if let Ok(text) = core::str::from_utf8(&json) {
                same_as_payload(text);
                same_as_payload(&format!(r#"{{"aud":{text},"user_id":"1"}}"#));
                same_as_payload(&format!(r#"{{"exp":{text}}}"#));
            } else {
                proptest::prop_assert!(ClaimsView::read(json, &names()).is_none());
            }
        }
    }

    /// The nesting limit is `Value`'s, to the level.
    #[test]
    fn nesting_limit_is_values() {
        for depth in 124..=130 {
            same_as_payload(&format!(
                r#"{{"aud":{}1{}}}"#,
                "[".repeat(depth),
                "]".repeat(depth)
            ));
            same_as_payload(&format!(
                r#"{{"x":{}1{}}}"#,
                r#"{"a":"#.repeat(depth),
                "}".repeat(depth)
            ));
        }
    }

    #[test]
    fn refuses_invalid_utf8() {
        assert!(
            ClaimsView::read(vec![b'{', b'"', 0xff, b'"', b':', b'1', b'}'], &names()).is_none()
        );
    }
}
