//! edgejwt's CSRF check against the real Django's (recorded by scripts/record-django-csrf.py).
#![cfg(feature = "browser")]

use edgejwt_core::browser::{BrowserSettings, CsrfRequest};
use serde_json::Value;

#[test]
fn every_recorded_case_gets_djangos_outcome() {
    let fixture: Value =
        serde_json::from_str(include_str!("fixtures/django-csrf.json")).expect("fixture is JSON");
    let cases = fixture["cases"].as_array().expect("cases");
    assert!(cases.len() >= 30);
    for case in cases {
        let s = |k: &str| case[k].as_str().map(str::to_owned);
        let trusted = case["trusted"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .unwrap_or_default();
        let header_name = s("header_name").expect("header_name");
        let cookie_domain = s("cookie_domain");
        let settings = BrowserSettings::from_lookup(|name| match name {
            "CSRF_TRUSTED_ORIGINS" => Some(trusted.clone()),
            "CSRF_COOKIE_DOMAIN" => cookie_domain.clone(),
            "CSRF_HEADER_NAME" => Some(header_name.clone()),
            _ => None,
        })
        .expect("settings");
        let (host, origin, referer, cookie, header) = (
            s("host"),
            s("origin"),
            s("referer"),
            s("cookie"),
            s("header"),
        );
        let req = CsrfRequest {
            secure: case["secure"].as_bool().expect("secure"),
            host: host.as_deref().unwrap_or_default(),
            origin: origin.as_deref(),
            referer: referer.as_deref(),
            cookie: cookie.as_deref(),
            header: header.as_deref(),
        };
        let ours = settings
            .check_csrf(&req)
            .err()
            .map(|f| f.reason().to_owned());
        assert_eq!(ours, s("reason"), "case {:?}", case["name"]);
    }
}
