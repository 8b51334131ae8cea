//! Request bodies as Django REST framework parses and validates them: JSON, form-encoded
//! and multipart bodies; 415 for other types; `CharField` rules for each field. And the
//! request itself as the issuer reads it ([`Incoming`]).

use serde_json::{Map, Value};
use worker::{
    js_sys::Uint8Array,
    wasm_bindgen::{prelude::wasm_bindgen, JsCast, JsValue},
    Method, Request,
};

use crate::{
    error::ApiError,
    parse::{self, parse_body},
};

/// Largest request body accepted, in bytes (413 above it). Credentials and tokens fit in a
/// few hundred bytes; the cap keeps parsing cost bounded.
use crate::config::MAX_BODY_BYTES;

#[wasm_bindgen(inline_js = r#"
// The method, the URL and the headers `names` (those present, "name:value"), one per line
// (no part can hold a line break): what the issuer reads of a request, in one call.
export function head(request, names) {
  const headers = request.headers;
  let head = request.method + "\n" + request.url + "\n";
  for (const name of names) {
    const value = headers.get(name);
    if (value !== null) head += name + ":" + value + "\n";
  }
  return head;
}
"#)]
extern "C" {
    fn head(request: &web_sys::Request, names: &js_sys::Array) -> String;
}

/// The request headers the issuer reads, besides `AUTH_HEADER_NAME` and `CSRF_HEADER_NAME`.
/// [`Incoming`] fetches only these: a `Headers.get` per name, in JS, cost half of walking
/// every header the request has (bench/, a CPU profile).
const READ_HEADERS: [&str; 10] = [
    "Content-Type",
    "Content-Length",
    "Origin",
    "Access-Control-Request-Method",
    crate::storage::BOOKMARK_HEADER,
    "CF-Connecting-IP",
    "User-Agent",
    "Cookie",
    "Referer",
    "Host",
];

/// The names [`Incoming::new`] fetches: [`READ_HEADERS`] and the configured ones (none
/// when the configuration is broken: nothing but the error is answered then).
pub fn header_names(configured: &[&str]) -> js_sys::Array {
    READ_HEADERS
        .iter()
        .chain(configured)
        .map(|name| JsValue::from_str(name))
        .collect()
}

/// [`MAX_BODY_BYTES`], for the shim, which reads the body before it calls wasm (`fetch`).
#[wasm_bindgen(js_name = maxBodyBytes)]
pub fn max_body_bytes() -> u32 {
    MAX_BODY_BYTES as u32
}

/// The request as the issuer reads it: its method, URL and the headers it reads (see
/// [`header_names`]) fetched from the runtime in one call, and its body as the shim read
/// it. workers-rs' `Request::from` parsed the URL with the `url` crate and read
/// `request.cf`, and every `Headers.get` was a call and a string copy of its own: together
/// about a seventh of a token verify's time in the isolate (bench/, a CPU profile).
pub struct Incoming {
    /// `None`: longer than [`MAX_BODY_BYTES`] (the shim stopped reading). Left in JS until
    /// a view reads it ([`read_data`]): most requests that carry a body read it, a 404 does not.
    body: Option<Uint8Array>,
    method: Method,
    /// The method's line, the URL's, then one line per header.
    head: String,
    url: std::ops::Range<usize>,
}

impl Incoming {
    /// `names`: [`header_names`]. `body`: the shim's bytes, `null` past [`MAX_BODY_BYTES`].
    pub fn new(request: &web_sys::Request, names: &js_sys::Array, body: &JsValue) -> Self {
        let head = head(request, names);
        let method_end = head.find('\n').unwrap_or(head.len());
        let url_start = (method_end + 1).min(head.len());
        let url_end = head[url_start..]
            .find('\n')
            .map_or(head.len(), |i| url_start + i);
        let url = url_start..url_end;
        Self {
            method: Method::from(head[..method_end].to_owned()),
            body: body.dyn_ref::<Uint8Array>().cloned(),
            head,
            url,
        }
    }

    pub fn method(&self) -> Method {
        self.method.clone()
    }

    /// The URL as the runtime has it (WHATWG-parsed: percent-encoded, dot segments resolved).
    pub fn url(&self) -> &str {
        &self.head[self.url.clone()]
    }

    /// The URL's path, as `url::Url::path` gives it for an http(s) URL.
    pub fn path(&self) -> &str {
        path_of(self.url())
    }

    /// The header `name` (ASCII case-insensitive), as `Headers.get` gives it; one of
    /// [`header_names`], or `None`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head[self.url.end..]
            .split('\n')
            .filter_map(|line| line.split_once(':'))
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, value)| value)
    }

    /// The header `name`, owned.
    pub fn header_owned(&self, name: &str) -> Option<String> {
        self.header(name).map(str::to_owned)
    }
}

/// The path of an absolute URL: from the first `/` after its authority to the query or
/// fragment, `/` when it has none.
fn path_of(url: &str) -> &str {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let rest = &after_scheme[after_scheme
        .find(['/', '?', '#'])
        .unwrap_or(after_scheme.len())..];
    match &rest[..rest.find(['?', '#']).unwrap_or(rest.len())] {
        "" => "/",
        path => path,
    }
}

/// Reads the body into a JSON object of fields (simplejwt's `request.data`).
pub async fn read_data(req: &Incoming) -> Result<Map<String, Value>, ApiError> {
    let content_type = req.header("Content-Type").unwrap_or_default();
    if let Some(len) = req
        .header("Content-Length")
        .and_then(|l| l.trim().parse::<usize>().ok())
    {
        if len > MAX_BODY_BYTES {
            return Err(ApiError::PayloadTooLarge);
        }
    }
    let body = req.body.as_ref().ok_or(ApiError::PayloadTooLarge)?;
    let bytes = body.to_vec();
    // DRF returns empty data before it picks a parser when there is no body, so an empty
    // body is neither a JSON parse error nor a 415, whatever its type.
    if bytes.is_empty() {
        return Ok(Map::new());
    }
    match parse_body(content_type, &bytes) {
        Some(parsed) => Ok(parsed?),
        None => parse_multipart(content_type, body).await,
    }
}

async fn parse_multipart(
    content_type: &str,
    body: &Uint8Array,
) -> Result<Map<String, Value>, ApiError> {
    // Rebuild a Request around the body, still in JS, to use the runtime's multipart parser.
    let headers = worker::Headers::new();
    let _ = headers.set("Content-Type", content_type);
    let mut init = worker::RequestInit::new();
    init.with_method(worker::Method::Post)
        .with_headers(headers)
        .with_body(Some(body.clone().into()));
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

#[cfg(test)]
mod tests {
    use super::path_of;

    #[test]
    fn the_path_is_the_one_the_url_crate_parses() {
        // URLs as the runtime hands them over (already WHATWG-serialized), and a few it never
        // would, each compared with the `url` crate's parse, which workers-rs used.
        for url in [
            "http://127.0.0.1:8787/api/token/",
            "https://auth.example.com/api/token/refresh/?next=/x",
            "https://auth.example.com/api/sessions/a%2Fb/",
            "https://auth.example.com",
            "https://auth.example.com?q=1",
            "https://auth.example.com#frag",
            "https://auth.example.com/#frag",
            "https://user:p@ss@auth.example.com/api/protected/",
            "https://auth.example.com/api/token/?a=b#c",
            "http://[::1]:8787/api/token/verify/",
            "https://xn--bcher-kva.example/%C3%A9/",
            "https://auth.example.com//api/token//",
            "https://auth.example.com/a;b=c/d",
        ] {
            let parsed = url::Url::parse(url).unwrap();
            assert_eq!(path_of(parsed.as_str()), parsed.path(), "{url}");
        }
    }
}
