//! Cookie mode's I/O: reading a cookie from the request and writing `Set-Cookie` with the
//! attributes edgejwt-core's [`CookieSpec`] says (dj-rest-auth's and Django's settings).

use cookie::{time::Duration, Cookie, SameSite};
use edgejwt_core::browser::{self, CookieSpec};

/// The first cookie named `name` in a `Cookie` header (browsers send the most specific
/// path first).
pub fn get(header: Option<&str>, name: &str) -> Option<String> {
    Cookie::split_parse(header?)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

/// A `Set-Cookie` value for `spec`, living `max_age` seconds (0 clears it).
pub fn set(spec: &CookieSpec, value: &str, max_age: i64) -> String {
    let mut cookie = Cookie::build((spec.name.clone(), value.to_owned()))
        .path(spec.path.clone())
        .secure(spec.secure)
        .http_only(spec.http_only)
        .same_site(match spec.same_site {
            browser::SameSite::Lax => SameSite::Lax,
            browser::SameSite::Strict => SameSite::Strict,
            browser::SameSite::None => SameSite::None,
        })
        .max_age(Duration::seconds(max_age.max(0)))
        .build();
    if let Some(domain) = &spec.domain {
        cookie.set_domain(domain.clone());
    }
    cookie.to_string()
}

/// A `Set-Cookie` that removes the cookie `spec` set.
pub fn clear(spec: &CookieSpec) -> String {
    set(spec, "", 0)
}
