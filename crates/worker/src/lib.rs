//! # edgejwt-worker
//!
//! The edgejwt issuer: djangorestframework-simplejwt's token API on Cloudflare Workers.
//! Users and tokens live in D1 (binding `DB`); revoked token and session ids are mirrored
//! to KV (binding `REVOCATIONS`) for other Workers. Cron Triggers flush expired tokens
//! (daily) and write to KV what an end of sessions left pending in D1 (every minute).
//!
//! One `fetch` event matches the path; each route is a [`view::View`] (its name and the
//! methods it allows) around a handler; every error becomes a response in one place
//! ([`ApiError::into_response`]). Token rules are edgejwt-core's: the handlers only parse,
//! store and respond.

mod config;
mod error;
mod handlers;
mod log;
mod parse;
mod password;
mod request;
mod response;
mod storage;
mod throttle;
mod view;

pub use throttle::LoginThrottle;

use std::{future::Future, rc::Rc, task::Poll};

use worker::{event, Context, Env, ScheduleContext, ScheduledEvent};

use crate::{
    config::Config,
    error::ApiError,
    handlers::{
        blacklist, jwks, obtain, password_change, protected, refresh, sessions, sliding, verify,
    },
    request::Incoming,
    response::Answer,
    storage::{Revocations, Store},
    view::{Reads, ReadsFrom, View},
};

const TOKEN_VIEW: &[worker::Method] = &[worker::Method::Post];
const READ_VIEW: &[worker::Method] = &[worker::Method::Get, worker::Method::Head];

/// A token view: POST a body of fields.
const fn token_view(name: &'static str, reads_from: ReadsFrom) -> View {
    View {
        name,
        methods: TOKEN_VIEW,
        allow: "POST, OPTIONS",
        input: Reads::Data,
        reads_from,
    }
}

/// DRF authenticates before it dispatches on the method: every method reaches the view.
const PROTECTED_VIEW: View = View {
    name: "Protected",
    methods: READ_VIEW,
    allow: "GET, HEAD, OPTIONS",
    input: Reads::Header,
    reads_from: ReadsFrom::Replica,
};

/// The session API (`JWTAuthentication`): the user's sessions.
const SESSIONS_VIEW: View = View {
    name: "Sessions",
    methods: READ_VIEW,
    allow: "GET, HEAD, OPTIONS",
    input: Reads::Header,
    reads_from: ReadsFrom::Replica,
};

const SESSION_VIEW: View = View {
    name: "Session",
    methods: &[worker::Method::Delete],
    allow: "DELETE, OPTIONS",
    input: Reads::Header,
    reads_from: ReadsFrom::Primary,
};

/// An authenticated POST with a body.
const fn user_action(name: &'static str) -> View {
    View {
        name,
        methods: TOKEN_VIEW,
        allow: "POST, OPTIONS",
        input: Reads::HeaderAndData,
        reads_from: ReadsFrom::Primary,
    }
}

const JWKS_VIEW: View = View {
    name: "JWKS",
    methods: READ_VIEW,
    allow: "GET, HEAD, OPTIONS",
    input: Reads::Nothing,
    reads_from: ReadsFrom::Primary,
};

fn now() -> i64 {
    (js_sys::Date::now() / 1000.0).floor() as i64
}

/// The `fetch` export the shim calls, in place of workers-rs' `#[event(fetch)]`: an answer
/// that needs no I/O (a 404, a 405, OPTIONS, a preflight, a stateless protected view) is
/// returned as a `Response` from a first, synchronous poll; only a request that awaits the
/// runtime becomes a Promise. The macro's wasm-bindgen executor (a Promise, a task, a
/// microtask per request) was most of a 404's time in wasm (bench/). `body` is the request's
/// body as the shim read it (`null` past [`config::MAX_BODY_BYTES`]): a verify of an access
/// token then awaits nothing either.
#[wasm_bindgen::prelude::wasm_bindgen(js_name = fetch)]
pub fn fetch_export(
    req: worker::worker_sys::web_sys::Request,
    body: wasm_bindgen::JsValue,
    env: Env,
    ctx: worker::worker_sys::Context,
) -> Result<wasm_bindgen::JsValue, wasm_bindgen::JsValue> {
    let names = Config::get(&env).map_or_else(
        |_| request::header_names(&[]),
        |config| config.header_names.clone(),
    );
    let req = Incoming::new(&req, &names, &body);
    let mut answer = Box::pin(async move {
        let answer = handle(req, env, Context::new(ctx)).await;
        answer.into_js().map(wasm_bindgen::JsValue::from)
    });
    // A pending future has registered this waker nowhere that matters: every future it
    // awaits (JsFuture) re-registers the executor's waker when the executor polls it again.
    match answer
        .as_mut()
        .poll(&mut std::task::Context::from_waker(std::task::Waker::noop()))
    {
        Poll::Ready(response) => response,
        Poll::Pending => Ok(wasm_bindgen_futures::future_to_promise(answer).into()),
    }
}

/// Every request: CORS around the routes (django-cors-headers' middleware: preflights are
/// answered before any view; allowed origins get their headers on every answer).
async fn handle(req: Incoming, env: Env, ctx: Context) -> Answer {
    let Some(config) = Config::get(&env).ok().filter(|c| c.browser.cors.enabled()) else {
        return route(req, env, ctx).await;
    };
    let origin = req.header_owned("Origin");
    let preflight = config.browser.cors.is_preflight(
        req.method().as_ref(),
        req.header("Access-Control-Request-Method"),
    );
    let mut answer = if preflight {
        Answer::empty(200)
    } else {
        route(req, env, ctx).await
    };
    answer.append("Vary", "Origin");
    for (name, value) in config.browser.cors.headers(origin.as_deref(), preflight) {
        answer.set(name, value);
    }
    answer
}

/// The route table, a `match` on the path (matchit's rules: exact paths, one `:sid` segment,
/// static paths first). It used to be a workers-rs `Router` built on every request: 13 boxed
/// closures inserted into matchit trees, then dropped, cost more than the 404 itself.
async fn route(req: Incoming, env: Env, ctx: Context) -> Answer {
    let ctx = Rc::new(ctx);
    let path = req.path().to_owned();
    /// `$view` around `$handler`, with the session id of the path if any.
    macro_rules! serve {
        ($view:expr, $handler:path) => {
            serve!($view, $handler, None)
        };
        ($view:expr, $handler:path, $sid:expr) => {
            view::serve(req, &env, &ctx, $sid, &$view, |app, input| async move {
                $handler(&app, input).await
            })
            .await
        };
    }
    match path.as_str() {
        "/api/token/" => serve!(
            token_view("Token Obtain Pair", ReadsFrom::Primary),
            obtain::pair
        ),
        "/api/token/refresh/" => serve!(
            token_view("Token Refresh", ReadsFrom::Replica),
            refresh::refresh
        ),
        "/api/token/verify/" => serve!(
            token_view("Token Verify", ReadsFrom::Replica),
            verify::verify
        ),
        "/api/token/blacklist/" => serve!(
            token_view("Token Blacklist", ReadsFrom::Primary),
            blacklist::blacklist
        ),
        "/api/token/sliding/" => serve!(
            token_view("Token Obtain Sliding", ReadsFrom::Primary),
            obtain::sliding
        ),
        "/api/token/sliding/refresh/" => {
            serve!(
                token_view("Token Refresh Sliding", ReadsFrom::Replica),
                sliding::refresh
            )
        }
        "/api/protected/" => serve!(PROTECTED_VIEW, protected::protected),
        "/api/token/jwks/" | "/.well-known/jwks.json" => serve!(JWKS_VIEW, jwks::jwks),
        "/api/sessions/" => serve!(SESSIONS_VIEW, sessions::list),
        "/api/sessions/revoke-all/" => {
            serve!(user_action("Revoke All Sessions"), sessions::revoke_all)
        }
        "/api/password/change/" => serve!(user_action("Password Change"), password_change::change),
        other => match session_id(other) {
            Some(sid) => serve!(SESSION_VIEW, sessions::revoke, Some(sid.to_owned())),
            None => not_found(),
        },
    }
}

/// The `:sid` of `/api/sessions/:sid/`: one non-empty segment, as the runtime's URL has it
/// (percent-encoded, as matchit saw it).
fn session_id(path: &str) -> Option<&str> {
    path.strip_prefix("/api/sessions/")?
        .strip_suffix('/')
        .filter(|sid| !sid.is_empty() && !sid.contains('/'))
}

fn not_found() -> Answer {
    ApiError::NotFound.into_response("POST, OPTIONS", "")
}

/// The Cron Trigger that writes to KV the revocations of sessions a request ended in D1 but
/// could not write (`wrangler.toml`): every minute, as access tokens live minutes.
const MIRROR_CRON: &str = "* * * * *";

/// Revocations one run writes at most, of sessions and of tokens each (KV's operations per
/// invocation are limited; a backlog drains over several minutes).
const MIRROR_LIMIT: u32 = 200;

/// The Cron Triggers in `wrangler.toml`: [`MIRROR_CRON`] writes pending revocations to KV;
/// any other schedule is simplejwt's `flushexpiredtokens` (and writes them too).
#[event(scheduled)]
async fn scheduled(event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    let (db, config) = match (env.d1("DB"), Config::get(&env)) {
        (Ok(db), Ok(config)) => (db, config),
        (Err(e), _) => return crate::log::error!("edgejwt: scheduled run failed: {e:?}"),
        (_, Err(e)) => {
            let e = ApiError::Config(e);
            return crate::log::error!("edgejwt: scheduled run failed: {e:?}");
        }
    };
    let store = Store::new(db, None, false);
    let now = now();
    let revocations = Revocations::new(env.clone());
    let mirrored = handlers::sessions::mirror_pending(
        &store,
        &revocations,
        &config.settings,
        now,
        MIRROR_LIMIT,
    )
    .await;
    match mirrored {
        Ok(0) => {}
        Ok(n) => crate::log::info!("edgejwt: wrote {n} pending revocations to KV"),
        Err(e) => crate::log::error!("edgejwt: pending revocations not written: {e:?}"),
    }
    if event.cron() == MIRROR_CRON {
        return;
    }
    let events_before = config
        .auth_events_retention
        .map(|keep| now.saturating_sub_unsigned(keep));
    let flushed = store
        .flush_expired(config.settings.flush_before(now), now, events_before)
        .await;
    match flushed {
        Ok(n) => crate::log::info!("edgejwt: flushed {n} expired tokens"),
        Err(e) => crate::log::error!("edgejwt: flush failed: {e:?}"),
    }
}
