// The demo SPA: everything token-related is done by edgejwt/client; this file only draws.
import { AuthClient, AuthError, type ActiveSession } from "edgejwt/client";
import { Timeline } from "./timeline.js";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

/**
 * Written by scripts/dev.sh (www/dist/config.json): the issuer's origin (another one with
 * --cross-origin) and the mode it runs in (cookie with --cookie or --cross-origin).
 */
interface DemoConfig {
  issuer?: string;
  mode?: Mode;
}
type Mode = "bearer" | "cookie";
const config: DemoConfig = await fetch("config.json").then((r) => (r.ok ? r.json() : {}), () => ({}));
const MODE_KEY = "edgejwt-demo-mode"; // the switch's choice, kept across reloads
const mode: Mode = (localStorage.getItem(MODE_KEY) ?? config.mode) === "cookie" ? "cookie" : "bearer";
const baseUrl = config.issuer ?? "";
// Bearer: the pair in localStorage, where any script of the page can read it. Cookie: the
// refresh token in an HttpOnly cookie; the access token in memory, restored from the cookie.
const client = new AuthClient(mode === "cookie" ? { mode, baseUrl, refreshLeeway: 5 } : { storage: "localStorage", baseUrl, refreshLeeway: 5 });
const timeline = new Timeline(document.getElementById("timeline-chart") as unknown as SVGSVGElement);

function log(text: string): void {
  const li = document.createElement("li");
  li.textContent = `${new Date().toLocaleTimeString()}  ${text}`;
  $("timeline").prepend(li);
}

const short = (id: unknown) => (typeof id === "string" ? id.slice(0, 8) : "?");

/** The claims of a JWT, unverified (to show which refresh token the client holds). */
function peek(token: unknown): Record<string, unknown> | null {
  try {
    const part = String(token).split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(part + "===".slice((part.length + 3) % 4)));
  } catch {
    return null;
  }
}

/** The `jti` of the refresh token the client stored (this demo uses localStorage, key "edgejwt"). */
function storedRefreshJti(): string | null {
  try {
    const jti = peek(JSON.parse(localStorage.getItem("edgejwt") ?? "null")?.refresh)?.jti;
    return typeof jti === "string" ? jti : null;
  } catch {
    return null;
  }
}

let refreshJti = storedRefreshJti();

// ---- the mode switch, and what this page's JavaScript can read ---------------------------------

for (const input of document.querySelectorAll<HTMLInputElement>("input[name=mode]")) {
  input.checked = input.value === mode;
  input.addEventListener("change", () => {
    localStorage.setItem(MODE_KEY, input.value);
    location.reload(); // a new client in the other mode; each mode's session stays where it lives
  });
}
{
  const issuer = baseUrl || location.origin;
  const other = config.mode && config.mode !== mode;
  $("issuer").textContent =
    `Issuer: ${issuer}${baseUrl ? " (another origin: CORS)" : ""}${config.mode ? `, in ${config.mode} mode` : ""}.` +
    (other ? ` Sign-in in ${mode} mode will be refused: switch back, or restart ./scripts/dev.sh ${config.mode === "cookie" ? "without --cookie" : "with --cookie"}.` : "");
}

/** Shows what a script on this page can read: the CSRF cookie, and the refresh token or not. */
function showReadable(): void {
  const cookies = document.cookie;
  const csrf = /(^|;\s*)csrftoken=/.test(cookies);
  // A JWT in document.cookie would start "eyJ" (base64url of '{"').
  const refreshVisible = mode === "bearer" ? refreshJti !== null : /(^|;\s*)[^=]+=eyJ/.test(cookies);
  const set = (id: string, yes: boolean, text: string, data: Record<string, string>) => {
    const li = $(id);
    li.className = yes ? "yes" : "no";
    li.textContent = text;
    Object.assign(li.dataset, data);
  };
  set("csrf-state", mode === "bearer" || csrf, mode === "bearer" ? "no CSRF token needed: nothing is sent by cookie" : csrf ? "the CSRF token (csrftoken cookie), sent back as X-CSRFToken" : "no CSRF token yet (the issuer sets it at sign-in)", { present: String(csrf) });
  set(
    "refresh-state",
    !refreshVisible,
    refreshVisible
      ? "the refresh token, in localStorage: any script on this page can read it"
      : mode === "cookie"
        ? "no refresh token: it is in an HttpOnly cookie only the browser sends to /api/"
        : "no refresh token (signed out)",
    { visible: String(refreshVisible) },
  );
  $("cookie-view").textContent =
    `document.cookie = ${JSON.stringify(cookies)}` + (mode === "bearer" ? `\nlocalStorage.edgejwt = ${refreshJti ? "{access, refresh, …}" : "null"}` : "");
}

let throttleTimer: ReturnType<typeof setInterval> | undefined;
/** DRF's throttle: the wait counted down, sign-in disabled until it is over. */
function throttled(seconds: number): void {
  const until = Date.now() + seconds * 1000;
  const submit = $("login-form").querySelector("button")!;
  const show = () => {
    const left = Math.max(0, Math.ceil((until - Date.now()) / 1000));
    $("throttle-countdown").textContent = String(left);
    $("throttle").dataset.remaining = String(left);
    $("throttle").hidden = left === 0;
    submit.disabled = left > 0;
    if (left === 0) clearInterval(throttleTimer);
  };
  clearInterval(throttleTimer);
  throttleTimer = setInterval(show, 250);
  show();
}

/** Adds the current access token to the drawn timeline. */
function drawToken(): void {
  const c = client.claims;
  if (c && typeof c.jti === "string" && typeof c.iat === "number" && typeof c.exp === "number") timeline.token(c.jti, c.iat, c.exp);
}

function render(): void {
  const signedIn = client.isAuthenticated;
  $("login").hidden = signedIn;
  $("session").hidden = !signedIn;
  $("sessions-section").hidden = !signedIn;
  $("password-section").hidden = !signedIn;
  document.body.dataset.state = signedIn ? "signed-in" : "signed-out";
  const claims = client.claims;
  $("claims").textContent = claims ? JSON.stringify(claims, null, 2) : "";
  $("username").textContent = String(claims?.username ?? `user ${claims?.user_id ?? ""}`);
  if (signedIn) $("revoked-notice").hidden = true;
  showReadable();
  timeline.draw();
}

function tick(): void {
  const exp = client.claims?.exp;
  $("countdown").textContent = typeof exp === "number" ? `${Math.max(0, exp - Math.floor(Date.now() / 1000))} s` : "–";
  timeline.draw();
}

// ---- sessions ------------------------------------------------------------------------------

const when = (d: Date | null) => (d ? d.toLocaleString() : "–");

function sessionRow(s: ActiveSession): HTMLTableRowElement {
  const tr = document.createElement("tr");
  tr.dataset.sid = s.sid;
  if (s.current) tr.className = "current";
  const cells = [short(s.sid), s.user_agent || "unknown device", when(s.created_at), when(s.last_used_at), when(s.expires_at)];
  for (const text of cells) {
    const td = document.createElement("td");
    td.textContent = text;
    tr.append(td);
  }
  if (s.current) {
    const badge = document.createElement("span");
    badge.className = "this-device";
    badge.textContent = "this device";
    tr.cells[0]!.append(" ", badge);
  }
  tr.cells[1]!.title = s.user_agent;
  const td = document.createElement("td");
  const button = document.createElement("button");
  button.className = "revoke small";
  button.dataset.sid = s.sid;
  button.textContent = s.current ? "Revoke (signs out here)" : "Revoke";
  button.addEventListener("click", () => void revoke(s.sid, s.current));
  td.append(button);
  tr.append(td);
  return tr;
}

let listing = 0;
async function loadSessions(): Promise<void> {
  if (!client.isAuthenticated) return;
  const call = ++listing;
  const error = $("sessions-error");
  try {
    const sessions = await client.sessions();
    if (call !== listing) return; // a newer list is on its way
    $("sessions").querySelector("tbody")!.replaceChildren(...sessions.map(sessionRow));
    error.hidden = true;
  } catch (e) {
    if (call !== listing) return;
    error.textContent = `Could not list the sessions: ${(e as Error).message}`;
    error.hidden = false;
  }
}

async function revoke(sid: string, current: boolean): Promise<void> {
  try {
    await client.revokeSession(sid);
    log(`revoked session ${short(sid)}${current ? " (this device)" : ": that device is signed out at its next refresh"}`);
  } catch (e) {
    $("sessions-error").textContent = `Could not revoke ${short(sid)}: ${(e as Error).message}`;
    $("sessions-error").hidden = false;
  }
  await loadSessions();
}

// ---- client events ---------------------------------------------------------------------------

client.addEventListener("login", () => {
  refreshJti = storedRefreshJti();
  log(`login: access ${short(client.claims?.jti)}, session ${short(client.claims?.sid)}`);
  timeline.mark("login", `login, session ${short(client.claims?.sid)}`);
  drawToken();
  render();
  void loadSessions();
});
client.addEventListener("refresh", () => {
  if (mode === "cookie") {
    log(`refresh: new access ${short(client.claims?.jti)}; the browser sent the refresh cookie, the issuer set the rotated one`);
    timeline.mark("refresh", `refresh: access ${short(client.claims?.jti)}`);
    drawToken();
    render();
    void loadSessions();
    return;
  }
  const jti = storedRefreshJti();
  const rotated = jti !== null && jti !== refreshJti;
  log(`refresh: new access ${short(client.claims?.jti)}, ${rotated ? `refresh token rotated ${short(refreshJti)} → ${short(jti)}` : "same refresh token"}`);
  timeline.mark("refresh", `refresh: access ${short(client.claims?.jti)}`);
  if (rotated) timeline.mark("rotation", `refresh token rotated ${short(refreshJti)} → ${short(jti)}`);
  refreshJti = jti ?? refreshJti;
  drawToken();
  render();
  void loadSessions();
});
client.addEventListener("refreshretry", (e) => {
  const { attempt, error } = e.detail;
  log(`grace-window retry ${attempt}: the refresh answer was lost (${error.message}); resending ${mode === "cookie" ? "the refresh cookie" : `refresh token ${short(refreshJti)}`}`);
  timeline.mark("retry", `grace-window retry ${attempt}: same refresh token resent`);
  timeline.draw();
});
client.addEventListener("revoked", (e) => {
  const { sid, error } = e.detail;
  log(`revoked: session ${short(sid)} ended${error ? ` by the issuer (${error.detail ?? error.message})` : ""}`);
  timeline.mark("revoked", `session ${short(sid)} revoked`);
  const notice = $("revoked-notice");
  notice.textContent = error
    ? "You were signed out: this session was ended elsewhere (logged out everywhere, a password change, or revoked from another device)."
    : "You ended this session (logged out everywhere, or revoked it from the list).";
  notice.hidden = false;
  render();
});
client.addEventListener("logout", () => {
  refreshJti = storedRefreshJti();
  log(`logout: refresh token blacklisted, session revoked${mode === "cookie" ? ", refresh cookie cleared" : ""}`);
  timeline.mark("logout", "logout");
  render();
});
client.addEventListener("authfailure", (e) => {
  log(`auth failure: ${e.detail.error.message}`);
  timeline.mark("failure", `auth failure: ${e.detail.error.message}`);
  render();
});

// ---- forms and buttons -----------------------------------------------------------------------

$("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target as HTMLFormElement);
  const error = $("login-error");
  error.hidden = true;
  try {
    await client.login(String(form.get("username")), String(form.get("password")));
  } catch (e) {
    const err = e as AuthError;
    log(`login failed: ${err.message}`);
    if (err.code === "throttled") return throttled(err.retryAfter ?? 1);
    error.textContent =
      err.code === "invalid_credentials" ? `Wrong username or password, or the account is inactive (${err.detail ?? err.message}).` :
      err.code === "network_error" ? "The issuer cannot be reached." : err.message;
    error.hidden = false;
  }
});

$("password-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const formElement = event.target as HTMLFormElement;
  const form = new FormData(formElement);
  const result = $("password-result");
  formElement.dataset.state = "busy";
  result.textContent = "";
  result.className = "result";
  const shown = new Map<string, HTMLElement>();
  for (const p of formElement.querySelectorAll<HTMLElement>(".field-error")) {
    p.hidden = true;
    p.textContent = "";
    shown.set(p.dataset.field!, p);
  }
  try {
    await client.changePassword(String(form.get("old_password")), String(form.get("new_password1")), String(form.get("new_password2")));
    formElement.reset();
    result.textContent = "New password has been saved. Your other sessions were signed out.";
    result.className = "result ok";
    log("password changed: the other sessions were revoked");
    await loadSessions();
  } catch (e) {
    const err = e as AuthError;
    // The issuer's messages under the field they belong to (DRF's field errors).
    for (const [field, messages] of Object.entries(err.fields ?? { other: [err.message] })) {
      const p = shown.get(field) ?? shown.get("other")!;
      p.textContent = [p.textContent, ...messages].filter(Boolean).join(" ");
      p.hidden = false;
    }
    log(`password change refused: ${err.message}`);
  }
  formElement.dataset.state = "done";
});

$("call").addEventListener("click", async () => {
  const out = $("call-result");
  const res = await client.fetch("/api/protected/");
  const body = await res.text();
  out.textContent = `${res.status} ${body}`;
  out.className = `result ${res.ok ? "ok" : "fail"}`;
  log(`GET /api/protected/ → ${res.status}`);
});

$("logout").addEventListener("click", () => client.logout());

$("logout-everywhere").addEventListener("click", async () => {
  try {
    const n = await client.logoutEverywhere();
    log(`logged out everywhere: ${n} session${n === 1 ? "" : "s"} revoked`);
  } catch (e) {
    log(`logout everywhere failed: ${(e as Error).message}`);
  }
});

$("sessions-reload").addEventListener("click", () => void loadSessions());

await client.ready;
refreshJti = storedRefreshJti();
if (mode === "cookie" && client.isAuthenticated) log("session restored from the refresh cookie");
drawToken();
render();
void loadSessions();
setInterval(tick, 250);
tick();
