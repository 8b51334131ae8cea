//! Cookie mode's inputs: any `Cookie` header, and Django's CSRF check, CORS and the login
//! throttle over arbitrary origins, referers, hosts, cookies and tokens. Must never panic;
//! a request passes the CSRF check only with a matching token from a trusted origin.
#![no_main]

use std::sync::OnceLock;

use edgejwt_core::browser::{cookie_value, throttle, BrowserSettings, CsrfRequest, Rate};
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

static SETTINGS: OnceLock<BrowserSettings> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let [cookie_header, origin, referer, host, header, rate, flags] = common::fields::<7>(data);
    let settings = SETTINGS.get_or_init(|| {
        BrowserSettings::from_lookup(|name| match name {
            "JWT_AUTH_REFRESH_COOKIE" => Some("refresh".into()),
            "CSRF_TRUSTED_ORIGINS" => Some("https://app.example.com, https://*.example.org".into()),
            "CSRF_COOKIE_DOMAIN" => Some(".example.com".into()),
            "CORS_ALLOWED_ORIGINS" => Some("https://app.example.com".into()),
            "CORS_ALLOW_CREDENTIALS" => Some("true".into()),
            _ => None,
        })
        .expect("settings")
    });
    let cookies = common::text(cookie_header);
    let csrf_cookie = cookie_value(&cookies, "csrftoken");
    let _ = cookie_value(&cookies, "refresh");
    let (origin, referer, host, header) = (
        common::text(origin),
        common::text(referer),
        common::text(host),
        common::text(header),
    );
    let flags = flags.first().copied().unwrap_or(0);
    let req = CsrfRequest {
        secure: flags & 1 != 0,
        host: &host,
        origin: (flags & 2 != 0).then_some(origin.as_str()),
        referer: (flags & 4 != 0).then_some(referer.as_str()),
        cookie: csrf_cookie,
        header: (flags & 8 != 0).then_some(header.as_str()),
    };
    if settings.check_csrf(&req).is_ok() {
        assert!(req.cookie.is_some() && req.header.is_some());
    }
    let _ = settings.check_origin(&req);
    let _ = settings.cors.headers(req.origin, flags & 16 != 0);
    if let Ok(Some(rate)) = Rate::parse("LOGIN_THROTTLE_RATE", &common::text(rate)) {
        let times: Vec<i64> = data
            .chunks(8)
            .map(|c| c.iter().fold(0i64, |n, b| n << 8 | i64::from(*b)))
            .collect();
        let _ = throttle(&rate, &times, times.first().copied().unwrap_or(0));
    }
});
