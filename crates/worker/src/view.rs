//! One view wrapper for every route: DRF's method dispatch (405, OPTIONS metadata), the
//! request's input (body fields or the auth header), and the response or the error's.

use std::{future::Future, rc::Rc};

use serde_json::{json, Map, Value};
use worker::{Context, Env, Method, Request, Response, RouteContext};

use crate::{
    config::Config,
    error::ApiError,
    handlers::App,
    request,
    response::{no_content, respond},
    storage::{Client, Revocations, Store},
};

/// What a view reads from the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reads {
    /// The body, parsed as DRF parses it (`request.data`).
    Data,
    /// The `AUTH_HEADER_NAME` header. The view authenticates before the method is
    /// checked, as DRF does: a request without credentials is 401 whatever its method.
    Header,
    /// The header and, for the methods that take one, the body.
    HeaderAndData,
    /// Nothing.
    Nothing,
}

/// A route's view: its DRF name and the methods it allows.
#[derive(Debug)]
pub struct View {
    pub name: &'static str,
    pub methods: &'static [Method],
    /// The `Allow` header.
    pub allow: &'static str,
    pub input: Reads,
}

/// What a view answers: a JSON body (200), or nothing (DRF's 204).
pub enum Reply {
    Json(Value),
    NoContent,
}

impl From<Value> for Reply {
    fn from(body: Value) -> Self {
        Self::Json(body)
    }
}

/// The request's input, as its view reads it.
pub struct Input {
    /// The body's fields (`Reads::Data`).
    pub data: Map<String, Value>,
    /// The `AUTH_HEADER_NAME` header (`Reads::Header`).
    pub auth: Option<String>,
    /// Who is asking (sessions and audit events).
    pub client: Client,
    /// The `:sid` of `/api/sessions/:sid/`.
    pub sid: Option<String>,
}

/// The `User-Agent` kept with a session or an event, truncated to this many characters.
const USER_AGENT_CHARS: usize = 256;

fn client(req: &Request) -> Client {
    let header = |name: &str| req.headers().get(name).ok().flatten().unwrap_or_default();
    Client {
        ip: header("CF-Connecting-IP"),
        user_agent: header("User-Agent")
            .chars()
            .take(USER_AGENT_CHARS)
            .collect(),
    }
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

/// DRF's answer to OPTIONS: the view's metadata.
fn options(view: &View) -> Response {
    let body = json!({
        "name": view.name,
        "renders": ["application/json"],
        "parses": ["application/json", "application/x-www-form-urlencoded", "multipart/form-data"],
    });
    respond(200, &body, view.allow, &[])
}

/// Serves `req` with `handler`, the view's input read from the request.
pub async fn serve<F, Fut, R>(
    mut req: Request,
    ctx: RouteContext<Rc<Context>>,
    view: &View,
    handler: F,
) -> worker::Result<Response>
where
    F: FnOnce(App, Input) -> Fut,
    Fut: Future<Output = Result<R, ApiError>>,
    R: Into<Reply>,
{
    let method = req.method();
    if method == Method::Options {
        return Ok(options(view));
    }
    let allowed = view.methods.contains(&method);
    let not_allowed = || ApiError::MethodNotAllowed {
        method: method.to_string(),
        allow: view.allow,
    };
    let result = async {
        if !allowed && !matches!(view.input, Reads::Header | Reads::HeaderAndData) {
            return Err(not_allowed());
        }
        let app = app(&ctx.env, &ctx.data)?;
        let reads_auth = matches!(view.input, Reads::Header | Reads::HeaderAndData);
        let reads_body = view.input == Reads::Data
            || view.input == Reads::HeaderAndData && allowed && method == Method::Post;
        let input = Input {
            auth: reads_auth
                .then(|| {
                    req.headers()
                        .get(&app.config.settings.auth_header_name)
                        .ok()
                        .flatten()
                })
                .flatten(),
            client: client(&req),
            sid: ctx.param("sid").cloned(),
            data: if reads_body {
                request::read_data(&mut req).await?
            } else {
                Map::new()
            },
        };
        let reply = handler(app, input).await?.into();
        // Authenticated, but not with this method.
        if allowed {
            Ok(reply)
        } else {
            Err(not_allowed())
        }
    }
    .await;
    Ok(match result {
        Ok(Reply::NoContent) => no_content(view.allow),
        Ok(Reply::Json(body)) => respond(200, &body, view.allow, &[]),
        Err(err) => {
            let challenge = Config::get(&ctx.env).map_or_else(
                |_| "Bearer realm=\"api\"".to_owned(),
                |c| c.www_authenticate.clone(),
            );
            err.into_response(view.allow, &challenge)
        }
    })
}
