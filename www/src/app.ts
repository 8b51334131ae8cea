// The demo SPA: everything token-related is done by edgejwt/client; this file only draws.
import { AuthClient, AuthError } from "edgejwt/client";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const client = new AuthClient({ storage: "localStorage", refreshLeeway: 5 });

function log(text: string): void {
  const li = document.createElement("li");
  li.textContent = `${new Date().toLocaleTimeString()}  ${text}`;
  $("timeline").prepend(li);
}

const short = (jti: unknown) => (typeof jti === "string" ? jti.slice(0, 8) : "?");

function render(): void {
  const signedIn = client.isAuthenticated;
  $("login").hidden = signedIn;
  $("session").hidden = !signedIn;
  document.body.dataset.state = signedIn ? "signed-in" : "signed-out";
  const claims = client.claims;
  $("claims").textContent = claims ? JSON.stringify(claims, null, 2) : "";
  $("username").textContent = String(claims?.username ?? `user ${claims?.user_id ?? ""}`);
}

function tick(): void {
  const exp = client.claims?.exp;
  $("countdown").textContent = typeof exp === "number" ? `${Math.max(0, exp - Math.floor(Date.now() / 1000))} s` : "–";
}

client.addEventListener("login", () => {
  log(`login: access ${short(client.claims?.jti)}, session ${short(client.claims?.sid)}`);
  render();
});
client.addEventListener("refresh", () => {
  log(`refresh: new access ${short(client.claims?.jti)}, refresh token rotated`);
  render();
});
client.addEventListener("logout", () => {
  log("logout: refresh token blacklisted, session revoked");
  render();
});
client.addEventListener("authfailure", (e) => {
  log(`auth failure: ${(e as CustomEvent<{ error: AuthError }>).detail.error.message}`);
  render();
});

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

$("call").addEventListener("click", async () => {
  const out = $("call-result");
  const res = await client.fetch("/api/protected/");
  const body = await res.text();
  out.textContent = `${res.status} ${body}`;
  out.className = `result ${res.ok ? "ok" : "fail"}`;
  log(`GET /api/protected/ → ${res.status}`);
});

$("logout").addEventListener("click", () => client.logout());

await client.ready;
render();
setInterval(tick, 250);
tick();
