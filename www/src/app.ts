// The demo SPA: everything token-related is done by edgejwt/client; this file only draws.
import { AuthClient, AuthError, type ActiveSession } from "edgejwt/client";
import { Timeline } from "./timeline.js";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const client = new AuthClient({ storage: "localStorage", refreshLeeway: 5 });
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
  log(`grace-window retry ${attempt}: the refresh answer was lost (${error.message}); resending refresh token ${short(refreshJti)}`);
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
  log("logout: refresh token blacklisted, session revoked");
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
    error.textContent =
      err.status === 429 ? "Too many attempts: wait a moment and try again." :
      err.code === "invalid_credentials" ? `Wrong username or password, or the account is inactive (${err.detail ?? err.message}).` :
      err.code === "network_error" ? "The issuer cannot be reached." : err.message;
    error.hidden = false;
    log(`login failed: ${err.message}`);
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
drawToken();
render();
void loadSessions();
setInterval(tick, 250);
tick();
