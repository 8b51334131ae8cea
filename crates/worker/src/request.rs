//! Request bodies as Django REST framework parses and validates them: JSON, form-encoded
//! and multipart bodies; 415 for other types; `CharField` rules for each field.

use serde_json::{json, Map, Value};
use worker::{
    js_sys::{Reflect, Uint8Array},
    wasm_bindgen::{JsCast, JsValue},
    wasm_bindgen_futures::JsFuture,
    web_sys::ReadableStreamDefaultReader,
    Request,
};

use crate::error::ApiError;

/// Largest request body accepted, in bytes (413 above it). Credentials and tokens fit in a
/// few hundred bytes; the cap keeps parsing cost bounded.
use crate::config::MAX_BODY_BYTES;

/// The body limit, for the fuzz targets.
#[cfg(fuzzing)]
pub(crate) const MAX_BODY: usize = MAX_BODY_BYTES;

/// Reads the body into a JSON object of fields (simplejwt's `request.data`).
pub async fn read_data(req: &mut Request) -> Result<Map<String, Value>, ApiError> {
    let content_type = req
        .headers()
        .get("Content-Type")
        .ok()
        .flatten()
        .unwrap_or_default();
    if let Some(len) = req
        .headers()
        .get("Content-Length")
        .ok()
        .flatten()
        .and_then(|l| l.trim().parse::<usize>().ok())
    {
        if len > MAX_BODY_BYTES {
            return Err(ApiError::PayloadTooLarge);
        }
    }
    let bytes = read_body(req).await?;
    // DRF returns empty data before it picks a parser when there is no body, so an empty
    // body is neither a JSON parse error nor a 415, whatever its type.
    if bytes.is_empty() {
        return Ok(Map::new());
    }
    match parse_body(&content_type, &bytes) {
        Some(parsed) => parsed,
        None => parse_multipart(&content_type, bytes).await,
    }
}

/// A body by its media type, as DRF's parsers read it; `None` for multipart (the runtime's
/// parser, async). 415 for a type no parser reads.
pub(crate) fn parse_body(
    content_type: &str,
    bytes: &[u8],
) -> Option<Result<Map<String, Value>, ApiError>> {
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
        _ => Err(ApiError::UnsupportedMediaType(content_type.to_owned())),
    })
}

/// The body, read chunk by chunk and abandoned as soon as it passes [`MAX_BODY_BYTES`]:
/// a body without Content-Length (chunked, streamed), or with a wrong one, is never read
/// whole before the limit applies.
async fn read_body(req: &Request) -> Result<Vec<u8>, ApiError> {
    let Some(stream) = req.inner().body() else {
        return Ok(Vec::new());
    };
    let reader: ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
    let mut bytes = Vec::new();
    loop {
        let chunk = JsFuture::from(reader.read()).await.map_err(js_error)?;
        if Reflect::get(&chunk, &"done".into())
            .map_err(js_error)?
            .is_truthy()
        {
            return Ok(bytes);
        }
        let value: Uint8Array = Reflect::get(&chunk, &"value".into())
            .map_err(js_error)?
            .dyn_into()
            .map_err(js_error)?;
        if bytes.len() + value.length() as usize > MAX_BODY_BYTES {
            // Tell the runtime the rest is not wanted; the answer does not wait for it.
            let _ = reader.cancel();
            return Err(ApiError::PayloadTooLarge);
        }
        bytes.extend_from_slice(&value.to_vec());
    }
}

fn js_error(err: JsValue) -> ApiError {
    ApiError::Internal(format!("reading the request body: {err:?}"))
}

fn parse_json(bytes: &[u8]) -> Result<Map<String, Value>, ApiError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| ApiError::Parse("'utf-8' codec can't decode the request body".into()))?;
    let value: Value =
        serde_json::from_str(text).map_err(|e| ApiError::Parse(python_json_error(text, &e)))?;
    match value {
        Value::Object(map) => Ok(map),
        other => Err(ApiError::non_field(&format!(
            "Invalid data. Expected a dictionary, but got {}.",
            python_type(&other)
        ))),
    }
}

async fn parse_multipart(
    content_type: &str,
    bytes: Vec<u8>,
) -> Result<Map<String, Value>, ApiError> {
    // Rebuild a Request to use the runtime's multipart parser.
    let headers = worker::Headers::new();
    let _ = headers.set("Content-Type", content_type);
    let mut init = worker::RequestInit::new();
    init.with_method(worker::Method::Post)
        .with_headers(headers)
        .with_body(Some(js_sys::Uint8Array::from(bytes.as_slice()).into()));
    let mut req = Request::new_with_init("http://multipart.invalid/", &init)?;
    let form = req
        .form_data()
        .await
        .map_err(|_| ApiError::Parse("Multipart form parse error".into()))?;
    // FormData has no iterator in workers-rs; the views read only these fields.
    Ok(["username", "password", "refresh", "token"]
        .into_iter()
        .filter_map(|name| Some((name.to_owned(), Value::String(form.get_field(name)?))))
        .collect())
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

/// Validates `fields` as `CharField`s, reporting every failing field at once (in order).
pub fn char_fields<const N: usize>(
    data: &Map<String, Value>,
    fields: [&str; N],
) -> Result<[String; N], ApiError> {
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
        Err(ApiError::Validation(Value::Object(errors)))
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
