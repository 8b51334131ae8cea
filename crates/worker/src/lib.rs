//! # edgejwt-worker
//!
//! The edgejwt issuer: djangorestframework-simplejwt's token API on Cloudflare Workers.
//! Users and tokens live in D1 (binding `DB`); revoked token ids are mirrored to KV
//! (binding `REVOCATIONS`) for other Workers. A Cron Trigger flushes expired tokens.
//!
//! One `fetch` event builds a router; each route names its view and the methods it
//! allows; every error becomes a response in one place ([`ApiError::into_response`]).

mod config;
mod error;
mod handlers;
mod password;
mod request;
mod storage;

use std::{future::Future, rc::Rc};

use serde_json::{json, Value};
use worker::{
    event, Context, Env, Headers, Method, Request, Response, ResponseBuilder, RouteContext, Router,
    ScheduleContext, ScheduledEvent,
};

use crate::{
    config::Config,
    error::ApiError,
    handlers::App,
    storage::{Revocations, Store},
};

const TOKEN_VIEW_ALLOW: &str = "POST, OPTIONS";
const READ_VIEW_ALLOW: &str = "GET, HEAD, OPTIONS";

/// A JSON response with the headers a Django + DRF project sends on every response.
pub(crate) fn respond(status: u16, body: &Value, allow: &str, extra: &[(&str, &str)]) -> Response {
    let headers = Headers::new();
    for (name, value) in [
        ("Content-Type", "application/json"),
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
    let body = serde_json::to_vec(body).unwrap_or_default();
    ResponseBuilder::new()
        .with_status(status)
        .with_headers(headers)
        .fixed(body)
}

fn now() -> i64 {
    (js_sys::Date::now() / 1000.0).floor() as i64
}

fn app(env: &Env, ctx: &Rc<Context>) -> Result<App, ApiError> {
    let config = Config::get(env).map_err(ApiError::Config)?;
    Ok(App {
        config,
        ctx: Rc::clone(ctx),
        store: Store::new(env.d1("DB")?),
        revocations: Revocations::new(env.kv("REVOCATIONS")?),
        now: now(),
    })
}

fn www_authenticate(env: &Env) -> String {
    Config::get(env).map_or_else(
        |_| "Bearer realm=\"api\"".to_owned(),
        |c| c.www_authenticate.clone(),
    )
}

/// DRF's answer to OPTIONS: the view's metadata.
fn options(name: &str, allow: &'static str) -> Response {
    let body = json!({
        "name": name,
        "renders": ["application/json"],
        "parses": ["application/json", "application/x-www-form-urlencoded", "multipart/form-data"],
    });
    respond(200, &body, allow, &[])
}

/// A simplejwt token view: POST only, a parsed body in, a JSON object out.
async fn token_view<F, Fut>(
    mut req: Request,
    ctx: RouteContext<Rc<Context>>,
    name: &str,
    view: F,
) -> worker::Result<Response>
where
    F: FnOnce(App, serde_json::Map<String, Value>) -> Fut,
    Fut: Future<Output = Result<Value, ApiError>>,
{
    let method = req.method();
    let result = match method {
        Method::Post => match (app(&ctx.env, &ctx.data), request::read_data(&mut req).await) {
            (Ok(app), Ok(data)) => view(app, data).await,
            (Err(e), _) | (_, Err(e)) => Err(e),
        },
        Method::Options => return Ok(options(name, TOKEN_VIEW_ALLOW)),
        other => Err(ApiError::MethodNotAllowed {
            method: other.to_string(),
            allow: TOKEN_VIEW_ALLOW,
        }),
    };
    Ok(match result {
        Ok(body) => respond(200, &body, TOKEN_VIEW_ALLOW, &[]),
        Err(err) => err.into_response(TOKEN_VIEW_ALLOW, &www_authenticate(&ctx.env)),
    })
}

async fn protected_view(req: Request, ctx: RouteContext<Rc<Context>>) -> worker::Result<Response> {
    let result = match req.method() {
        Method::Get | Method::Head => match app(&ctx.env, &ctx.data) {
            Ok(app) => {
                let header = req
                    .headers()
                    .get(&app.config.settings.auth_header_name)
                    .ok()
                    .flatten();
                handlers::protected(&app, header).await
            }
            Err(e) => Err(e),
        },
        Method::Options => return Ok(options("Protected", READ_VIEW_ALLOW)),
        other => Err(ApiError::MethodNotAllowed {
            method: other.to_string(),
            allow: READ_VIEW_ALLOW,
        }),
    };
    Ok(match result {
        Ok(body) => respond(200, &body, READ_VIEW_ALLOW, &[]),
        Err(err) => err.into_response(READ_VIEW_ALLOW, &www_authenticate(&ctx.env)),
    })
}

async fn jwks_view(req: Request, ctx: RouteContext<Rc<Context>>) -> worker::Result<Response> {
    Ok(match (req.method(), Config::get(&ctx.env)) {
        (Method::Get | Method::Head, Ok(config)) => {
            respond(200, &handlers::jwks(&config), READ_VIEW_ALLOW, &[])
        }
        (Method::Get | Method::Head, Err(e)) => {
            ApiError::Config(e).into_response(READ_VIEW_ALLOW, "")
        }
        (Method::Options, _) => options("JWKS", READ_VIEW_ALLOW),
        (other, _) => ApiError::MethodNotAllowed {
            method: other.to_string(),
            allow: READ_VIEW_ALLOW,
        }
        .into_response(READ_VIEW_ALLOW, ""),
    })
}

fn not_found() -> Response {
    ApiError::NotFound.into_response(TOKEN_VIEW_ALLOW, "")
}

macro_rules! token_route {
    ($router:expr, $path:literal, $name:literal, $view:path) => {
        $router.on_async($path, |req, ctx| async move {
            token_view(req, ctx, $name, |app, data| async move {
                $view(&app, data).await
            })
            .await
        })
    };
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> worker::Result<Response> {
    // The request's context (waitUntil) reaches the views as the router's data.
    let router = Router::with_data(Rc::new(ctx));
    let router = token_route!(
        router,
        "/api/token/",
        "Token Obtain Pair",
        handlers::obtain_pair
    );
    let router = token_route!(
        router,
        "/api/token/refresh/",
        "Token Refresh",
        handlers::refresh_pair
    );
    let router = token_route!(
        router,
        "/api/token/verify/",
        "Token Verify",
        handlers::verify
    );
    let router = token_route!(
        router,
        "/api/token/blacklist/",
        "Token Blacklist",
        handlers::blacklist
    );
    let router = token_route!(
        router,
        "/api/token/sliding/",
        "Token Obtain Sliding",
        handlers::obtain_sliding
    );
    let router = token_route!(
        router,
        "/api/token/sliding/refresh/",
        "Token Refresh Sliding",
        handlers::refresh_sliding_token
    );
    router
        .on_async("/api/protected/", protected_view)
        .on_async("/api/token/jwks/", jwks_view)
        .or_else_any_method_async("/", |_, _| async { Ok(not_found()) })
        .or_else_any_method_async("/*path", |_, _| async { Ok(not_found()) })
        .run(req, env)
        .await
}

/// simplejwt's `flushexpiredtokens`, on the Cron Trigger in `wrangler.toml`.
#[event(scheduled)]
async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    let result = match env.d1("DB") {
        Ok(db) => Store::new(db).flush_expired(now()).await,
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(n) => worker::console_log!("edgejwt: flushed {n} expired tokens"),
        Err(e) => worker::console_error!("edgejwt: flush failed: {e:?}"),
    }
}
