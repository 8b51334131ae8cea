//! One view wrapper for every route: DRF's method dispatch (405, OPTIONS metadata), the
//! request's input (body fields or the auth header), and the response or the error's.

use std::{future::Future, rc::Rc};

use edgejwt_core::browser::CsrfRequest;
use serde_json::{json, Map, Value};
use worker::{Context, Env, Method};

use crate::{
    config::Config,
    error::ApiError,
    handlers::App,
    request::{self, Incoming},
    response::{json, no_content, Answer},
    storage::{Client, Replication, Revocations, Store, BOOKMARK_HEADER},
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

/// Where a view's lookups may be answered when D1's read replicas are on (`D1_READ_REPLICAS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadsFrom {
    /// The primary: a view that writes reads what its writes depend on where they happen
    /// (login reads the password a change just wrote; logout, a token's blacklisting).
    Primary,
    /// Any replica, at least as recent as the request's bookmark: the lookups of a view that
    /// only reads (verify, protected, the session list, the non-rotating refresh). A
    /// rotation's own batch still runs on the primary.
    Replica,
}

/// A route's view: its DRF name and the methods it allows.
#[derive(Debug)]
pub struct View {
    pub name: &'static str,
    pub methods: &'static [Method],
    /// The `Allow` header.
    pub allow: &'static str,
    pub input: Reads,
    pub reads_from: ReadsFrom,
}

/// What a view answers: a JSON body (200) or nothing (DRF's 204), and headers to add
/// (cookies to set, caching).
pub struct Reply {
    body: Option<Value>,
    headers: Vec<(&'static str, String)>,
}

impl From<Value> for Reply {
    fn from(body: Value) -> Self {
        Self {
            body: Some(body),
            headers: Vec::new(),
        }
    }
}

impl Reply {
    /// DRF's 204.
    pub fn no_content() -> Self {
        Self {
            body: None,
            headers: Vec::new(),
        }
    }

    /// Adds a `Set-Cookie` header for each cookie (none: unchanged).
    #[must_use]
    pub fn with_cookies(self, set_cookies: impl IntoIterator<Item = String>) -> Self {
        set_cookies
            .into_iter()
            .fold(self, |reply, c| reply.with_header("Set-Cookie", c))
    }

    /// Adds a header: `Set-Cookie` is appended (one per cookie), any other replaces the
    /// default every answer has (e.g. `Cache-Control: no-store`).
    #[must_use]
    pub fn with_header(mut self, name: &'static str, value: String) -> Self {
        self.headers.push((name, value));
        self
    }
}

/// What cookie mode reads from a request: its cookies and where it comes from (CSRF).
pub struct Browser {
    /// The `Cookie` header.
    pub cookies: Option<String>,
    pub origin: Option<String>,
    pub referer: Option<String>,
    /// `Host`, with its port.
    pub host: String,
    /// The request came over HTTPS.
    pub secure: bool,
    /// The `CSRF_HEADER_NAME` header.
    pub csrf_header: Option<String>,
}

impl Browser {
    /// The cookie named `name`.
    pub fn cookie(&self, name: &str) -> Option<String> {
        edgejwt_core::browser::cookie_value(self.cookies.as_deref()?, name).map(str::to_owned)
    }

    /// The CSRF check's view of this request, with the CSRF cookie's value.
    pub fn csrf_request<'a>(&'a self, csrf_cookie: Option<&'a str>) -> CsrfRequest<'a> {
        CsrfRequest {
            secure: self.secure,
            host: &self.host,
            origin: self.origin.as_deref(),
            referer: self.referer.as_deref(),
            cookie: csrf_cookie,
            header: self.csrf_header.as_deref(),
        }
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
    /// Cookies and origin (cookie mode).
    pub browser: Browser,
}

/// The `User-Agent` kept with a session or an event, truncated to this many characters.
const USER_AGENT_CHARS: usize = 256;

fn client(req: &Incoming) -> Client {
    let header = |name: &str| req.header(name).unwrap_or_default();
    Client {
        ip: header("CF-Connecting-IP").to_owned(),
        user_agent: header("User-Agent")
            .chars()
            .take(USER_AGENT_CHARS)
            .collect(),
    }
}

fn browser(req: &Incoming, csrf_header: &str) -> Browser {
    let header = |name: &str| req.header_owned(name);
    let secure = req.url().starts_with("https://");
    Browser {
        cookies: header("Cookie"),
        origin: header("Origin"),
        referer: header("Referer"),
        host: header("Host").unwrap_or_default(),
        secure,
        csrf_header: header(csrf_header),
    }
}

fn now() -> i64 {
    (js_sys::Date::now() / 1000.0).floor() as i64
}

/// The request's handles. `replication`: D1's sessions, when `D1_READ_REPLICAS` is on, kept
/// for the answer's bookmark.
fn app(
    env: &Env,
    ctx: &Rc<Context>,
    view: &View,
    bookmark: Option<&str>,
    replication: &mut Option<Rc<Replication>>,
) -> Result<App, ApiError> {
    let config = Config::get(env).map_err(ApiError::Config)?;
    let db = env.d1("DB")?;
    if config.d1_read_replicas {
        *replication = Some(Rc::new(Replication::new(&db, bookmark)?));
    }
    Ok(App {
        config,
        ctx: Rc::clone(ctx),
        env: env.clone(),
        store: Store::new(
            db,
            replication.clone(),
            view.reads_from == ReadsFrom::Replica,
        ),
        revocations: Revocations::new(env.clone()),
        now: now(),
    })
}

/// DRF's answer to OPTIONS: the view's metadata.
fn options(view: &View) -> Answer {
    let body = json!({
        "name": view.name,
        "renders": ["application/json"],
        "parses": ["application/json", "application/x-www-form-urlencoded", "multipart/form-data"],
    });
    json(200, &body, view.allow, &[])
}

/// Serves `req` with `handler`, the view's input read from the request.
pub async fn serve<F, Fut, R>(
    req: Incoming,
    env: &Env,
    ctx: &Rc<Context>,
    sid: Option<String>,
    view: &View,
    handler: F,
) -> Answer
where
    F: FnOnce(App, Input) -> Fut,
    Fut: Future<Output = Result<R, ApiError>>,
    R: Into<Reply>,
{
    let method = req.method();
    if method == Method::Options {
        return options(view);
    }
    let allowed = view.methods.contains(&method);
    let not_allowed = || ApiError::MethodNotAllowed {
        method: method.to_string(),
        allow: view.allow,
    };
    let bookmark = req.header(BOOKMARK_HEADER);
    let mut replication = None;
    let result = async {
        if !allowed && !matches!(view.input, Reads::Header | Reads::HeaderAndData) {
            return Err(not_allowed());
        }
        let app = app(env, ctx, view, bookmark, &mut replication)?;
        let reads_auth = matches!(view.input, Reads::Header | Reads::HeaderAndData);
        let reads_body = view.input == Reads::Data
            || view.input == Reads::HeaderAndData && allowed && method == Method::Post;
        let input = Input {
            auth: reads_auth
                .then(|| req.header_owned(&app.config.settings.auth_header_name))
                .flatten(),
            client: client(&req),
            browser: browser(&req, &app.config.browser.csrf_header),
            sid,
            data: if reads_body {
                request::read_data(&req).await?
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
    let mut answer = match result {
        Ok(reply) => {
            let mut answer = match &reply.body {
                None => no_content(view.allow),
                Some(body) => json(200, body, view.allow, &[]),
            };
            for (name, value) in reply.headers {
                if name.eq_ignore_ascii_case("Set-Cookie") {
                    answer.append(name, value);
                } else {
                    answer.set(name, value);
                }
            }
            answer
        }
        Err(err) => {
            let challenge = Config::get(env).map_or_else(
                |_| "Bearer realm=\"api\"".to_owned(),
                |c| c.www_authenticate.clone(),
            );
            err.into_response(view.allow, &challenge)
        }
    };
    // What this request read or wrote, for the client's next request to start from.
    if let Some(bookmark) = replication.and_then(|r| r.bookmark()) {
        answer.set(BOOKMARK_HEADER, bookmark);
    }
    answer
}
