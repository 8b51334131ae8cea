//! # edgejwt-worker
//!
//! The edgejwt issuer: djangorestframework-simplejwt's token API on Cloudflare Workers.
//! Users and tokens live in D1 (binding `DB`); revoked token and session ids are mirrored
//! to KV (binding `REVOCATIONS`) for other Workers. A Cron Trigger flushes expired tokens.
//!
//! One `fetch` event builds a router; each route is a [`view::View`] (its name and the
//! methods it allows) around a handler; every error becomes a response in one place
//! ([`ApiError::into_response`]). Token rules are edgejwt-core's: the handlers only parse,
//! store and respond.

mod config;
mod error;
mod handlers;
mod parse;
mod password;
mod request;
mod response;
mod storage;
mod throttle;
mod view;

pub use throttle::LoginThrottle;

use std::rc::Rc;

use worker::{event, Context, Env, Request, Response, Router, ScheduleContext, ScheduledEvent};

use crate::{
    config::Config,
    error::ApiError,
    handlers::{
        blacklist, jwks, obtain, password_change, protected, refresh, sessions, sliding, verify,
    },
    storage::Store,
    view::{Reads, View},
};

const TOKEN_VIEW: &[worker::Method] = &[worker::Method::Post];
const READ_VIEW: &[worker::Method] = &[worker::Method::Get, worker::Method::Head];

/// A token view: POST a body of fields.
const fn token_view(name: &'static str) -> View {
    View {
        name,
        methods: TOKEN_VIEW,
        allow: "POST, OPTIONS",
        input: Reads::Data,
    }
}

/// DRF authenticates before it dispatches on the method: every method reaches the view.
const PROTECTED_VIEW: View = View {
    name: "Protected",
    methods: READ_VIEW,
    allow: "GET, HEAD, OPTIONS",
    input: Reads::Header,
};

/// The session API (`JWTAuthentication`): the user's sessions.
const SESSIONS_VIEW: View = View {
    name: "Sessions",
    methods: READ_VIEW,
    allow: "GET, HEAD, OPTIONS",
    input: Reads::Header,
};

const SESSION_VIEW: View = View {
    name: "Session",
    methods: &[worker::Method::Delete],
    allow: "DELETE, OPTIONS",
    input: Reads::Header,
};

/// An authenticated POST with a body.
const fn user_action(name: &'static str) -> View {
    View {
        name,
        methods: TOKEN_VIEW,
        allow: "POST, OPTIONS",
        input: Reads::HeaderAndData,
    }
}

const JWKS_VIEW: View = View {
    name: "JWKS",
    methods: READ_VIEW,
    allow: "GET, HEAD, OPTIONS",
    input: Reads::Nothing,
};

/// The routes: each `$path` served by `$view`, whose input goes to `$handler`.
macro_rules! routes {
    ($router:expr, $($path:literal => $view:expr, $handler:path;)*) => {
        $router
            $(.on_async($path, |req, ctx| async move {
                view::serve(req, ctx, &$view, |app, input| async move { $handler(&app, input).await })
                    .await
            }))*
    };
}

fn now() -> i64 {
    (js_sys::Date::now() / 1000.0).floor() as i64
}

/// Every request: CORS around the routes (django-cors-headers' middleware: preflights are
/// answered before any view; allowed origins get their headers on every answer).
#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> worker::Result<Response> {
    let Some(config) = Config::get(&env).ok().filter(|c| c.browser.cors.enabled()) else {
        return route(req, env, ctx).await;
    };
    let header = |name: &str| req.headers().get(name).ok().flatten();
    let origin = header("Origin");
    let preflight = config.browser.cors.is_preflight(
        req.method().as_ref(),
        header("Access-Control-Request-Method").as_deref(),
    );
    let mut response = if preflight {
        Response::empty()?
    } else {
        route(req, env, ctx).await?
    };
    let headers = response.headers_mut();
    headers.append("Vary", "Origin")?;
    for (name, value) in config.browser.cors.headers(origin.as_deref(), preflight) {
        headers.set(name, &value)?;
    }
    Ok(response)
}

async fn route(req: Request, env: Env, ctx: Context) -> worker::Result<Response> {
    // The request's context (waitUntil) reaches the views as the router's data.
    let router = Router::with_data(Rc::new(ctx));
    let router = routes!(router,
        "/api/token/" => token_view("Token Obtain Pair"), obtain::pair;
        "/api/token/refresh/" => token_view("Token Refresh"), refresh::refresh;
        "/api/token/verify/" => token_view("Token Verify"), verify::verify;
        "/api/token/blacklist/" => token_view("Token Blacklist"), blacklist::blacklist;
        "/api/token/sliding/" => token_view("Token Obtain Sliding"), obtain::sliding;
        "/api/token/sliding/refresh/" => token_view("Token Refresh Sliding"), sliding::refresh;
        "/api/protected/" => PROTECTED_VIEW, protected::protected;
        "/api/token/jwks/" => JWKS_VIEW, jwks::jwks;
        "/.well-known/jwks.json" => JWKS_VIEW, jwks::jwks;
        "/api/sessions/" => SESSIONS_VIEW, sessions::list;
        "/api/sessions/revoke-all/" => user_action("Revoke All Sessions"), sessions::revoke_all;
        "/api/sessions/:sid/" => SESSION_VIEW, sessions::revoke;
        "/api/password/change/" => user_action("Password Change"), password_change::change;
    );
    router
        .or_else_any_method_async("/", |_, _| async { Ok(not_found()) })
        .or_else_any_method_async("/*path", |_, _| async { Ok(not_found()) })
        .run(req, env)
        .await
}

fn not_found() -> Response {
    ApiError::NotFound.into_response("POST, OPTIONS", "")
}

/// simplejwt's `flushexpiredtokens`, on the Cron Trigger in `wrangler.toml`.
#[event(scheduled)]
async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    let result = match (env.d1("DB"), Config::get(&env)) {
        (Ok(db), Ok(config)) => {
            Store::new(db)
                .flush_expired(config.settings.flush_before(now()), now())
                .await
        }
        (Err(e), _) => Err(e.into()),
        (_, Err(e)) => Err(ApiError::Config(e)),
    };
    match result {
        Ok(n) => worker::console_log!("edgejwt: flushed {n} expired tokens"),
        Err(e) => worker::console_error!("edgejwt: flush failed: {e:?}"),
    }
}
