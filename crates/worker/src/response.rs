//! The headers a Django + DRF project sends on every response, in one place.

use serde_json::Value;
use worker::{Headers, Response, ResponseBuilder};

/// A JSON response with the headers a Django + DRF project sends on every response.
pub fn respond(status: u16, body: &Value, allow: &str, extra: &[(&str, &str)]) -> Response {
    let body = serde_json::to_vec(body).unwrap_or_default();
    let headers = headers(allow, extra);
    let _ = headers.set("Content-Type", "application/json");
    ResponseBuilder::new()
        .with_status(status)
        .with_headers(headers)
        .fixed(body)
}

/// DRF's 204: the same headers, no body.
pub fn no_content(allow: &str) -> Response {
    ResponseBuilder::new()
        .with_status(204)
        .with_headers(headers(allow, &[]))
        .empty()
}

fn headers(allow: &str, extra: &[(&str, &str)]) -> Headers {
    let headers = Headers::new();
    for (name, value) in [
        ("Allow", allow),
        ("Vary", "Accept"),
        ("X-Frame-Options", "DENY"),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "same-origin"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
        // Tokens must not be cached by browsers or intermediaries.
        ("Cache-Control", "no-store"),
    ]
    .into_iter()
    .chain(extra.iter().copied())
    {
        let _ = headers.set(name, value);
    }
    headers
}
