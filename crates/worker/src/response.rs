//! The headers a Django + DRF project sends on every response, in one place, and the
//! response as wasm builds it: status, headers and body in Rust, made into the runtime's
//! `Response` by one call to JavaScript ([`Answer::into_js`]). Building it with workers-rs
//! (a `Headers`, a call per header, then the `Response`) was a third of a 404's time in wasm.

use std::{borrow::Cow, fmt::Write};

use serde_json::Value;
use wasm_bindgen::{prelude::wasm_bindgen, JsValue};

#[wasm_bindgen(inline_js = r#"
// `head` is "name:value\n" per header; `body` null for no body (204, a preflight). The
// headers go to the runtime as an object, which it converts faster than [name, value] pairs
// (bench/, by hand). A name given again (Set-Cookie, Vary) is appended after, as the runtime
// keeps each of those.
export function respond(status, head, body) {
  const headers = {};
  let again = null;
  for (let start = 0, end; (end = head.indexOf("\n", start)) !== -1; start = end + 1) {
    const colon = head.indexOf(":", start);
    const name = head.slice(start, colon);
    const value = head.slice(colon + 1, end);
    if (Object.hasOwn(headers, name)) (again ??= []).push(name, value);
    else headers[name] = value;
  }
  const response = new Response(body, { status, headers });
  if (again !== null) for (let i = 0; i < again.length; i += 2) response.headers.append(again[i], again[i + 1]);
  return response;
}
"#)]
extern "C" {
    #[wasm_bindgen(catch)]
    fn respond(status: u16, head: &str, body: Option<&str>) -> Result<web_sys::Response, JsValue>;
}

/// A response: its status, headers (in order, as the runtime will get them) and body.
#[derive(Debug)]
pub struct Answer {
    status: u16,
    headers: Vec<(&'static str, Cow<'static, str>)>,
    body: Option<String>,
}

impl Answer {
    /// No headers, no body (a CORS preflight's answer before its headers).
    pub fn empty(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: None,
        }
    }

    /// Replaces every header named `name` (ASCII case-insensitively) with this one.
    pub fn set(&mut self, name: &'static str, value: impl Into<Cow<'static, str>>) {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.headers.push((name, value.into()));
    }

    /// Adds a header, keeping any of the same name (`Set-Cookie`, `Vary`).
    pub fn append(&mut self, name: &'static str, value: impl Into<Cow<'static, str>>) {
        self.headers.push((name, value.into()));
    }

    /// The runtime's `Response`. A header the runtime refuses (none of ours: request header
    /// values cannot hold a line break) is an error, thrown to the shim, which answers 500.
    pub fn into_js(self) -> Result<web_sys::Response, JsValue> {
        let mut head = String::with_capacity(256);
        for (name, value) in &self.headers {
            let _ = writeln!(head, "{name}:{value}");
        }
        respond(self.status, &head, self.body.as_deref())
    }
}

/// A JSON response with the headers a Django + DRF project sends on every response.
pub fn json(
    status: u16,
    body: &Value,
    allow: &'static str,
    extra: &[(&'static str, &str)],
) -> Answer {
    let mut answer = with_headers(status, allow);
    answer.body = Some(serde_json::to_string(body).unwrap_or_default());
    answer.set("Content-Type", "application/json");
    for (name, value) in extra {
        answer.set(name, (*value).to_owned());
    }
    answer
}

/// DRF's 204: the same headers, no body.
pub fn no_content(allow: &'static str) -> Answer {
    with_headers(204, allow)
}

fn with_headers(status: u16, allow: &'static str) -> Answer {
    Answer {
        status,
        headers: vec![
            ("Allow", allow.into()),
            ("Vary", "Accept".into()),
            ("X-Frame-Options", "DENY".into()),
            ("X-Content-Type-Options", "nosniff".into()),
            ("Referrer-Policy", "same-origin".into()),
            ("Cross-Origin-Opener-Policy", "same-origin".into()),
            // Tokens must not be cached by browsers or intermediaries.
            ("Cache-Control", "no-store".into()),
        ],
        body: None,
    }
}
