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
    response::respond,
    storage::{Revocations, Store},
};

/// What a view reads from the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reads {
    /// The body, parsed as DRF parses it (`request.data`).
    Data,
    /// The `AUTH_HEADER_NAME` header. The view authenticates before the method is
    /// checked, as DRF does: a request without credentials is 401 whatever its method.
    Header,
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

/// The request's input, as its view reads it.
pub enum Input {
    Data(Map<String, Value>),
    Header(Option<String>),
    Nothing,
}

impl Input {
    pub fn data(self) -> Map<String, Value> {
        match self {
            Self::Data(data) => data,
            _ => Map::new(),
        }
    }

    pub fn header(self) -> Option<String> {
        match self {
            Self::Header(header) => header,
            _ => None,
        }
    }

    pub fn nothing(self) {}
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
pub async fn serve<F, Fut>(
    mut req: Request,
    ctx: RouteContext<Rc<Context>>,
    view: &View,
    handler: F,
) -> worker::Result<Response>
where
    F: FnOnce(App, Input) -> Fut,
    Fut: Future<Output = Result<Value, ApiError>>,
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
        if !allowed && view.input != Reads::Header {
            return Err(not_allowed());
        }
        let app = app(&ctx.env, &ctx.data)?;
        let input = match view.input {
            Reads::Data => Input::Data(request::read_data(&mut req).await?),
            Reads::Header => Input::Header(
                req.headers()
                    .get(&app.config.settings.auth_header_name)
                    .ok()
                    .flatten(),
            ),
            Reads::Nothing => Input::Nothing,
        };
        let body = handler(app, input).await?;
        // Authenticated, but not with this method.
        if allowed {
            Ok(body)
        } else {
            Err(not_allowed())
        }
    }
    .await;
    Ok(match result {
        Ok(body) => respond(200, &body, view.allow, &[]),
        Err(err) => {
            let challenge = Config::get(&ctx.env).map_or_else(
                |_| "Bearer realm=\"api\"".to_owned(),
                |c| c.www_authenticate.clone(),
            );
            err.into_response(view.allow, &challenge)
        }
    })
}
