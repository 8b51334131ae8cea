//! Request bodies as Django REST framework parses and validates them, without I/O: the JSON
//! and form parsers, Python's JSON error texts, `CharField`. Depends on serde_json and
//! form_urlencoded only, so the fuzz targets (fuzz/) include this file as it is.

use serde_json::{json, Map, Value};

/// Why a body cannot be read (the issuer answers 400 or 415).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyError {
    /// Malformed JSON: DRF's `ParseError` text after "JSON parse error - ".
    Parse(String),
    /// A 400 not tied to a field (a JSON body that is not an object).
    NonField(String),
    /// 415 for a content type no parser reads.
    UnsupportedMediaType(String),
}

/// A body by its media type, as DRF's parsers read it; `None` for multipart (the runtime's
/// parser, async). 415 for a type no parser reads.
pub fn parse_body(
    content_type: &str,
    bytes: &[u8],
) -> Option<Result<Map<String, Value>, BodyError>> {
    let media_type = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    Some(match media_type.as_str() {
        "application/json" => parse_json(bytes),
        "application/x-www-form-urlencoded" => Ok(form_urlencoded::parse(bytes)
            .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
            .collect()),
        "multipart/form-data" => return None,
        _ => Err(BodyError::UnsupportedMediaType(content_type.to_owned())),
    })
}

fn parse_json(bytes: &[u8]) -> Result<Map<String, Value>, BodyError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| BodyError::Parse("'utf-8' codec can't decode the request body".into()))?;
    let value: Value =
        serde_json::from_str(text).map_err(|e| BodyError::Parse(python_json_error(text, &e)))?;
    match value {
        Value::Object(map) => Ok(map),
        other => Err(BodyError::NonField(format!(
            "Invalid data. Expected a dictionary, but got {}.",
            python_type(&other)
        ))),
    }
}

/// The Python type name DRF reports for a non-object body.
fn python_type(value: &Value) -> &'static str {
    match value {
        Value::Array(_) => "list",
        Value::String(_) => "str",
        Value::Bool(_) => "bool",
        Value::Null => "NoneType",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::Object(_) => "dict",
    }
}

/// serde_json's error in the words of Python's `json` module, which DRF reports.
fn python_json_error(text: &str, err: &serde_json::Error) -> String {
    /// serde_json's message prefix → Python's.
    const MESSAGES: [(&str, &str); 7] = [
        (
            "key must be a string",
            "Expecting property name enclosed in double quotes",
        ),
        ("expected `:`", "Expecting ':' delimiter"),
        ("expected `,`", "Expecting ',' delimiter"),
        ("trailing characters", "Extra data"),
        (
            "EOF while parsing a string",
            "Unterminated string starting at",
        ),
        ("invalid escape", "Invalid \\escape"),
        ("control character", "Invalid control character at"),
    ];
    let msg = err.to_string();
    let what = MESSAGES
        .iter()
        .find(|(prefix, _)| msg.starts_with(prefix))
        .map_or("Expecting value", |(_, python)| python);
    let (line, column) = (err.line().max(1), err.column().max(1));
    // Python counts characters from 0; serde reports 1-based columns.
    let line_start: usize = text
        .split('\n')
        .take(line - 1)
        .map(|l| l.chars().count() + 1)
        .sum();
    let column = column.min(
        text.split('\n')
            .nth(line - 1)
            .map_or(1, |l| l.chars().count() + 1),
    );
    format!(
        "{what}: line {line} column {column} (char {})",
        line_start + column - 1
    )
}

/// Whitespace as Python's `str.strip()` sees it: Unicode's, plus the ASCII separators
/// U+001C..U+001F that Python counts as line breaks.
fn is_python_whitespace(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// A `CharField` value: required, not null, a string (numbers become strings), trimmed,
/// not blank, then its validators (no NUL characters). Returns DRF's message on failure.
fn char_field(data: &Map<String, Value>, name: &str) -> Result<String, &'static str> {
    let value = match data.get(name) {
        None => return Err("This field is required."),
        Some(Value::Null) => return Err("This field may not be null."),
        Some(Value::String(s)) => s.trim_matches(is_python_whitespace).to_owned(),
        Some(Value::Number(n)) => n.to_string(),
        Some(_) => return Err("Not a valid string."),
    };
    if value.is_empty() {
        return Err("This field may not be blank.");
    }
    // DRF's ProhibitNullCharactersValidator, run on the trimmed value.
    if value.contains('\0') {
        return Err("Null characters are not allowed.");
    }
    Ok(value)
}

/// Validates `fields` as `CharField`s, reporting every failing field at once (in order):
/// DRF's field errors, `{"field": ["message"], ...}`.
pub fn char_fields<const N: usize>(
    data: &Map<String, Value>,
    fields: [&str; N],
) -> Result<[String; N], Value> {
    let mut errors = Map::new();
    let values = fields.map(|name| match char_field(data, name) {
        Ok(v) => v,
        Err(msg) => {
            errors.insert(name.to_owned(), json!([msg]));
            String::new()
        }
    });
    if errors.is_empty() {
        Ok(values)
    } else {
        Err(Value::Object(errors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(value: Value) -> Result<String, &'static str> {
        char_field(
            &json!({ "f": value })
                .as_object()
                .cloned()
                .unwrap_or_default(),
            "f",
        )
    }

    #[test]
    fn char_field_trims_as_python_then_refuses_nul() {
        assert_eq!(field(json!("\u{1c} a \u{1f}")), Ok("a".to_owned()));
        assert_eq!(
            field(json!(" \u{1c}\u{1d}\u{1e}\u{1f}\t")),
            Err("This field may not be blank.")
        );
        assert_eq!(
            field(json!(" \0 ")),
            Err("Null characters are not allowed.")
        );
        assert_eq!(
            field(json!("pass\0word")),
            Err("Null characters are not allowed.")
        );
        assert_eq!(field(json!(5)), Ok("5".to_owned()));
    }
}
