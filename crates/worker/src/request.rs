//! Request bodies as Django REST framework parses and validates them: JSON, form-encoded
//! and multipart bodies; 415 for other types; `CharField` rules for each field.

use serde_json::{Map, Value};
use worker::{
    js_sys::{Reflect, Uint8Array},
    wasm_bindgen::{JsCast, JsValue},
    wasm_bindgen_futures::JsFuture,
    web_sys::ReadableStreamDefaultReader,
    Request,
};

use crate::{
    error::ApiError,
    parse::{self, parse_body},
};

/// Largest request body accepted, in bytes (413 above it). Credentials and tokens fit in a
/// few hundred bytes; the cap keeps parsing cost bounded.
use crate::config::MAX_BODY_BYTES;

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
        Some(parsed) => Ok(parsed?),
        None => parse_multipart(&content_type, bytes).await,
    }
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

/// Validates `fields` as `CharField`s, reporting every failing field at once (in order).
pub fn char_fields<const N: usize>(
    data: &Map<String, Value>,
    fields: [&str; N],
) -> Result<[String; N], ApiError> {
    parse::char_fields(data, fields).map_err(ApiError::Validation)
}
