//! Cookie mode's I/O: reading a cookie from the request and writing `Set-Cookie` with the
//! attributes edgejwt-core's [`CookieSpec`] says (dj-rest-auth's and Django's settings).

use edgejwt_core::browser::{cookie_value, CookieSpec};

/// The first cookie named `name` in a `Cookie` header.
pub fn get(header: Option<&str>, name: &str) -> Option<String> {
    cookie_value(header?, name).map(str::to_owned)
}

/// A `Set-Cookie` value for `spec`, living `max_age` seconds (0 clears it).
pub fn set(spec: &CookieSpec, value: &str, max_age: i64) -> String {
    spec.set_cookie(value, max_age)
}

/// A `Set-Cookie` that removes the cookie `spec` set.
pub fn clear(spec: &CookieSpec) -> String {
    spec.set_cookie("", 0)
}
