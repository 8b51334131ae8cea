//! Django's default `AUTH_PASSWORD_VALIDATORS`, with Django's exact messages.
//!
//! The four validators `django-admin startproject` configures, in its order:
//! `UserAttributeSimilarityValidator`, `MinimumLengthValidator`, `CommonPasswordValidator`
//! and `NumericPasswordValidator`. [`validate_password`] runs them all and returns every
//! failure, in that order, as Django's `validate_password` collects them (dj-rest-auth's
//! password change answers with these messages).
//!
//! Django runs on Python's string semantics, which this module reproduces rather than
//! Rust's where they differ: `str.lower()` (Unicode 15.1, Python 3.13's), `re`'s `\W`,
//! `str.isdigit()` and `str.strip()`. The tables come from the reference's Python
//! (`scripts/record-django-password-validation.py`), and `tests/password_validation.rs`
//! checks every recorded case against Django 6.1's own answers.

use alloc::{borrow::Cow, format, string::String, vec::Vec};
use core::{cmp::Ordering, fmt};

include!("../data/python_unicode.rs");

/// Django's common-passwords list (`django/contrib/auth/common-passwords.txt.gz` of Django
/// 6.1.3), decompressed, stripped and sorted by code point, one password a line.
///
/// Copyright (c) Django Software Foundation and individual contributors; BSD-3-Clause
/// (Django's license is `data/common-passwords.LICENSE` next to the list). Django's
/// list was made by Royce Williams from public breach corpora, lowercased and deduplicated.
const COMMON_PASSWORDS: &str = include_str!("../data/common-passwords.txt");

/// `MinimumLengthValidator`'s default `min_length`.
pub const MIN_LENGTH: usize = 8;

/// `UserAttributeSimilarityValidator`'s default `max_similarity`.
pub const MAX_SIMILARITY: f64 = 0.7;

/// How many passwords Django's common-passwords list holds (its docstring says 20,000
/// before deduplication).
pub const COMMON_PASSWORDS_LEN: usize = 19_640;

/// The user fields `UserAttributeSimilarityValidator` compares the password with, by
/// default: Django's `User.username`, `first_name`, `last_name` and `email`.
///
/// An empty value is skipped, as Django skips empty attributes; a password form for
/// nobody (`user=None` in Django) is [`UserAttributes::default()`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UserAttributes<'a> {
    /// `User.username`.
    pub username: &'a str,
    /// `User.first_name`.
    pub first_name: &'a str,
    /// `User.last_name`.
    pub last_name: &'a str,
    /// `User.email`.
    pub email: &'a str,
}

/// One of the [`UserAttributes`] a password was too similar to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UserAttribute {
    /// `username`.
    Username,
    /// `first_name`.
    FirstName,
    /// `last_name`.
    LastName,
    /// `email`.
    Email,
}

impl UserAttribute {
    /// Django's `DEFAULT_USER_ATTRIBUTES`, in its order (the first similar one is reported).
    pub const ALL: [Self; 4] = [Self::Username, Self::FirstName, Self::LastName, Self::Email];

    /// The attribute's name on Django's `User`, e.g. `first_name`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Username => "username",
            Self::FirstName => "first_name",
            Self::LastName => "last_name",
            Self::Email => "email",
        }
    }

    /// The model field's `verbose_name` Django puts in the message, e.g. `email address`.
    pub fn verbose_name(self) -> &'static str {
        match self {
            Self::Username => "username",
            Self::FirstName => "first name",
            Self::LastName => "last name",
            Self::Email => "email address",
        }
    }

    /// This attribute's value in `user`.
    pub fn value<'a>(self, user: &UserAttributes<'a>) -> &'a str {
        match self {
            Self::Username => user.username,
            Self::FirstName => user.first_name,
            Self::LastName => user.last_name,
            Self::Email => user.email,
        }
    }
}

/// Why a password was refused: one per failing validator, each with Django's `code`
/// and message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PasswordError {
    /// `UserAttributeSimilarityValidator`: "The password is too similar to the …".
    TooSimilar(UserAttribute),
    /// `MinimumLengthValidator`: "This password is too short. …".
    TooShort {
        /// The minimum length, in code points.
        min_length: usize,
    },
    /// `CommonPasswordValidator`: "This password is too common.".
    TooCommon,
    /// `NumericPasswordValidator`: "This password is entirely numeric.".
    EntirelyNumeric,
}

impl PasswordError {
    /// Django's `ValidationError.code`, e.g. `password_too_short`.
    pub fn code(self) -> &'static str {
        match self {
            Self::TooSimilar(_) => "password_too_similar",
            Self::TooShort { .. } => "password_too_short",
            Self::TooCommon => "password_too_common",
            Self::EntirelyNumeric => "password_entirely_numeric",
        }
    }

    /// Django's message (English, `LANGUAGE_CODE = "en-us"`), exactly.
    pub fn message(self) -> Cow<'static, str> {
        match self {
            Self::TooSimilar(attribute) => Cow::Borrowed(match attribute {
                UserAttribute::Username => "The password is too similar to the username.",
                UserAttribute::FirstName => "The password is too similar to the first name.",
                UserAttribute::LastName => "The password is too similar to the last name.",
                UserAttribute::Email => "The password is too similar to the email address.",
            }),
            Self::TooShort {
                min_length: MIN_LENGTH,
            } => {
                Cow::Borrowed("This password is too short. It must contain at least 8 characters.")
            }
            // Django's ngettext: "character" for exactly one.
            Self::TooShort { min_length: 1 } => {
                Cow::Borrowed("This password is too short. It must contain at least 1 character.")
            }
            Self::TooShort { min_length } => Cow::Owned(format!(
                "This password is too short. It must contain at least {min_length} characters."
            )),
            Self::TooCommon => Cow::Borrowed("This password is too common."),
            Self::EntirelyNumeric => Cow::Borrowed("This password is entirely numeric."),
        }
    }
}

impl fmt::Display for PasswordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

/// Runs Django's four default password validators on `password` for `user` and returns
/// every failure in Django's order (similarity, minimum length, common, numeric).
///
/// ```
/// use edgejwt_core::{validate_password, PasswordError, UserAttributes};
///
/// let alice = UserAttributes { username: "alice", email: "alice@example.com", ..Default::default() };
/// assert_eq!(validate_password("correct horse battery", &alice), Ok(()));
/// // Every failing validator answers, in Django's order.
/// let errors = validate_password("Alice1", &alice).unwrap_err();
/// let messages: Vec<_> = errors.iter().map(|e| e.message()).collect();
/// assert_eq!(messages, [
///     "The password is too similar to the username.",
///     "This password is too short. It must contain at least 8 characters.",
///     "This password is too common.",
/// ]);
/// assert_eq!(validate_password("12345678", &UserAttributes::default()).unwrap_err(),
///     [PasswordError::TooCommon, PasswordError::EntirelyNumeric]);
/// ```
pub fn validate_password(
    password: &str,
    user: &UserAttributes<'_>,
) -> Result<(), Vec<PasswordError>> {
    let mut errors = Vec::new();
    if let Some(attribute) = too_similar(password, user, MAX_SIMILARITY) {
        errors.push(PasswordError::TooSimilar(attribute));
    }
    if password.chars().count() < MIN_LENGTH {
        errors.push(PasswordError::TooShort {
            min_length: MIN_LENGTH,
        });
    }
    if is_common(password) {
        errors.push(PasswordError::TooCommon);
    }
    if is_entirely_numeric(password) {
        errors.push(PasswordError::EntirelyNumeric);
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// `UserAttributeSimilarityValidator.validate`: the first attribute (in
/// [`UserAttribute::ALL`] order) whose lowercased value, or one of its `\W+`-separated
/// parts, has a `SequenceMatcher.quick_ratio()` with the lowercased password of at least
/// `max_similarity`.
fn too_similar(
    password: &str,
    user: &UserAttributes<'_>,
    max_similarity: f64,
) -> Option<UserAttribute> {
    let password = python_lower(password);
    let mut password_chars: Vec<char> = password.chars().collect();
    password_chars.sort_unstable();
    UserAttribute::ALL.into_iter().find(|attribute| {
        let value = attribute.value(user);
        if value.is_empty() {
            return false;
        }
        let value = python_lower(value);
        // Django: `[*re.split(r"\W+", value_lower), value_lower]`.
        let similar = split_non_word(&value)
            .chain(core::iter::once(value.as_str()))
            .any(|part| {
                let part_len = part.chars().count();
                !exceeds_maximum_length_ratio(password_chars.len(), max_similarity, part_len)
                    && quick_ratio(&password_chars, part) >= max_similarity
            });
        similar
    })
}

/// Django's `exceeds_maximum_length_ratio`: a value at most a tenth of the password's
/// length (and short of `max_similarity / 2 * len`) cannot be similar enough, so its ratio
/// is not computed. Same float arithmetic as Django's.
fn exceeds_maximum_length_ratio(
    password_len: usize,
    max_similarity: f64,
    value_len: usize,
) -> bool {
    #[allow(
        clippy::cast_precision_loss,
        reason = "lengths far below 2^53, as in Python"
    )]
    let length_bound_similarity = max_similarity / 2.0 * password_len as f64;
    #[allow(
        clippy::cast_precision_loss,
        reason = "lengths far below 2^53, as in Python"
    )]
    let value_below_bound = (value_len as f64) < length_bound_similarity;
    password_len >= value_len.saturating_mul(10) && value_below_bound
}

/// `difflib.SequenceMatcher(a=password, b=value).quick_ratio()`: `2 * M / (len(a) + len(b))`
/// where `M` is the size of the multiset intersection of their code points (1.0 when both
/// are empty). `password_sorted` is the password's code points, sorted.
fn quick_ratio(password_sorted: &[char], value: &str) -> f64 {
    let mut value_sorted: Vec<char> = value.chars().collect();
    value_sorted.sort_unstable();
    let length = password_sorted.len() + value_sorted.len();
    if length == 0 {
        return 1.0;
    }
    let (mut a, mut b) = (
        password_sorted.iter().peekable(),
        value_sorted.iter().peekable(),
    );
    let mut matches = 0usize;
    while let (Some(x), Some(y)) = (a.peek(), b.peek()) {
        match x.cmp(y) {
            Ordering::Less => {
                a.next();
            }
            Ordering::Greater => {
                b.next();
            }
            Ordering::Equal => {
                matches += 1;
                a.next();
                b.next();
            }
        }
    }
    #[allow(
        clippy::cast_precision_loss,
        reason = "lengths far below 2^53, as in Python"
    )]
    let ratio = 2.0 * matches as f64 / length as f64;
    ratio
}

/// `CommonPasswordValidator.validate`: `password.lower().strip()` is in Django's list.
fn is_common(password: &str) -> bool {
    let lowered = python_lower(password);
    contains_line(COMMON_PASSWORDS, lowered.trim_matches(is_python_space))
}

/// `NumericPasswordValidator.validate`: Python's `password.isdigit()` (false when empty).
fn is_entirely_numeric(password: &str) -> bool {
    !password.is_empty() && password.chars().all(|c| in_ranges(DIGIT_RANGES, c))
}

/// Whether the sorted, newline-terminated lines of `sorted` hold `needle`: a binary
/// search over byte offsets, each probe widened to the line around it.
fn contains_line(sorted: &str, needle: &str) -> bool {
    let bytes = sorted.as_bytes();
    // Invariant: [lo, hi) is a run of whole lines ('\n'-terminated, or ending at len).
    let (mut lo, mut hi) = (0, bytes.len());
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let start = bytes
            .get(lo..mid)
            .and_then(|before| before.iter().rposition(|&b| b == b'\n'))
            .map_or(lo, |p| lo + p + 1);
        let end = bytes
            .get(start..hi)
            .and_then(|rest| rest.iter().position(|&b| b == b'\n'))
            .map_or(hi, |p| start + p);
        let Some(line) = bytes.get(start..end) else {
            return false;
        };
        match line.cmp(needle.as_bytes()) {
            Ordering::Equal => return true,
            Ordering::Less => lo = end + 1,
            Ordering::Greater => hi = start,
        }
    }
    false
}

/// Python's `re.split(r"\W+", value)`: the runs between maximal runs of non-word
/// characters, with an empty first or last part when `value` starts or ends with one.
fn split_non_word(value: &str) -> impl Iterator<Item = &str> {
    let mut parts = value.split(|c| !in_ranges(WORD_RANGES, c)).peekable();
    let mut first = true;
    core::iter::from_fn(move || loop {
        let part = parts.next()?;
        let is_first = core::mem::replace(&mut first, false);
        // A run of several separators yields empty parts in between: Python's `+` does not.
        if part.is_empty() && !is_first && parts.peek().is_some() {
            continue;
        }
        return Some(part);
    })
}

/// Code points Python 3.13's `str.lower()` (Unicode 15.1) leaves alone but Rust's newer
/// Unicode tables lowercase: the capital letters added in Unicode 16 and 17.
const NOT_LOWERCASED_BY_PYTHON: &[(u32, u32)] = &[
    (0x1C89, 0x1C89),
    (0xA7CB, 0xA7CC),
    (0xA7CE, 0xA7CE),
    (0xA7D2, 0xA7D2),
    (0xA7D4, 0xA7D4),
    (0xA7DA, 0xA7DA),
    (0xA7DC, 0xA7DC),
    (0x10D50, 0x10D65),
    (0x16EA0, 0x16EB8),
];

/// Python's `str.lower()`: Rust's full lowercasing (with the final-sigma rule, as
/// Python's), except for the code points Python's Unicode version does not case yet.
/// Those were unassigned in Unicode 15.1, so they also end a final-sigma context there:
/// lowering the text between them separately gives Python's answer.
fn python_lower(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some((index, c)) = rest
        .char_indices()
        .find(|&(_, c)| in_ranges(NOT_LOWERCASED_BY_PYTHON, c))
    {
        out.push_str(&rest.get(..index).unwrap_or_default().to_lowercase());
        out.push(c);
        rest = rest.get(index + c.len_utf8()..).unwrap_or_default();
    }
    out.push_str(&rest.to_lowercase());
    out
}

/// Python's `str.isspace()`, which `str.strip()` removes: Rust's `White_Space` plus the
/// ASCII information separators U+001C..U+001F (bidirectional class B or S in Python).
fn is_python_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Whether `c` is in one of the sorted, disjoint inclusive `ranges`.
fn in_ranges(ranges: &[(u32, u32)], c: char) -> bool {
    let c = u32::from(c);
    ranges
        .binary_search_by(|&(start, end)| {
            if end < c {
                Ordering::Less
            } else if start > c {
                Ordering::Greater
            } else {
                Ordering::Equal
            }
        })
        .is_ok()
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::indexing_slicing,
        clippy::panic,
        reason = "tests fail by panicking"
    )]

    use super::*;
    use alloc::{string::ToString, vec};
    use serde_json::Value;

    const UNICODE: &str = include_str!("../tests/fixtures/python-unicode.json");

    fn hex_char(hex: &str) -> char {
        char::from_u32(u32::from_str_radix(hex, 16).unwrap()).unwrap()
    }

    /// Our `python_lower` and `is_python_space` against Python's, for every code point.
    #[test]
    fn lower_and_space_match_python_for_every_code_point() {
        let fixture: Value = serde_json::from_str(UNICODE).unwrap();
        let lower = fixture["lower"].as_object().unwrap();
        let space: Vec<char> = fixture["space"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| hex_char(h.as_str().unwrap()))
            .collect();
        let mut wrong = vec![];
        for c in (0..=0x10_FFFF).filter_map(char::from_u32) {
            let expected: String = match lower.get(&alloc::format!("{:X}", u32::from(c))) {
                Some(mapped) => mapped.as_str().unwrap().split(' ').map(hex_char).collect(),
                None => c.to_string(),
            };
            if python_lower(&c.to_string()) != expected {
                wrong.push(c);
            }
            assert_eq!(is_python_space(c), space.contains(&c), "isspace {c:?}");
        }
        assert!(wrong.is_empty(), "lower differs from Python for {wrong:?}");
    }

    #[test]
    fn final_sigma_like_python() {
        assert_eq!(python_lower("ΟΔΟΣ"), "οδος");
        assert_eq!(python_lower("Σ"), "σ");
        assert_eq!(python_lower("ΑΣ\u{1c89}"), "ας\u{1c89}");
        assert_eq!(python_lower("\u{1c89}ΣΑ"), "\u{1c89}σα");
    }

    #[test]
    fn split_like_python_re() {
        let split = |s| split_non_word(s).collect::<Vec<_>>();
        assert_eq!(split("a..b"), ["a", "b"]);
        assert_eq!(split(".a."), ["", "a", ""]);
        assert_eq!(split("..a"), ["", "a"]);
        assert_eq!(split("..."), ["", ""]);
        assert_eq!(split("a"), ["a"]);
        assert_eq!(
            split("john.smith+news@mail"),
            ["john", "smith", "news", "mail"]
        );
    }

    #[test]
    fn common_list_is_sorted_and_searchable() {
        let lines: Vec<&str> = COMMON_PASSWORDS.lines().collect();
        assert_eq!(lines.len(), COMMON_PASSWORDS_LEN);
        assert!(lines.windows(2).all(|w| w[0] < w[1]));
        for line in &lines {
            assert!(contains_line(COMMON_PASSWORDS, line), "{line}");
        }
        // Before the first line, between lines, after the last.
        for absent in [
            "",
            " ",
            "\u{0}",
            "edgejwt",
            "password!!!!",
            "яя",
            "\u{10ffff}",
        ] {
            assert!(!contains_line(COMMON_PASSWORDS, absent), "{absent}");
        }
    }
}
