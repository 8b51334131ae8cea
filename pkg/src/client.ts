// The SPA client of edgejwt: signs in against a simplejwt-compatible issuer, keeps the access
// token fresh before it expires, rotates refresh tokens safely across tabs, and retries a
// request once after a 401. Plain TypeScript, no runtime dependencies, no wasm: it only
// decodes JWT payloads (base64url + JSON.parse) to read `exp` and `iat`; it never verifies a
// signature (that is the server's job).
//
// This file is the public entry (`edgejwt/client`) and the session's lifecycle; the parts live
// in session.ts (state, storage copy), scheduler.ts (refresh timer), tabs.ts (BroadcastChannel,
// Web Locks or a localStorage lease), http.ts (requests to the issuer, cookie mode's CSRF
// header), account.ts (the session API's and password change's answers) and storage.ts
// (storage adapters).

import { accountAnswer, sessionList, type ActiveSession } from "./account.js";
import { AuthError } from "./auth-error.js";
import { headerName, IssuerHttp, REQUEST_TIMEOUT_MS } from "./http.js";
import { RefreshTimer, refreshDueAt } from "./scheduler.js";
import { accessExpired, credentialOf, payloadOf, refreshUsable, sessionOf, SessionState, sidOf, type Session } from "./session.js";
import { resolveStorage, type StorageName, type TokenStorage } from "./storage.js";
import { GenerationLock, TabChannel, withRefreshLock, type Message } from "./tabs.js";

export { AuthError, type AuthErrorCode } from "./auth-error.js";
export type { ActiveSession } from "./account.js";
export type { TokenStorage, StorageName } from "./storage.js";
export { MemoryStorage, WebStorage } from "./storage.js";

/**
 * Options of {@link AuthClient}. Every field is optional.
 *
 * @example
 * const client = new AuthClient({
 *   baseUrl: "https://auth.example.com",
 *   storage: "localStorage",
 *   refreshLeeway: 30,
 * });
 */
export interface AuthClientOptions {
  /**
   * `"bearer"` (default): the client holds the refresh token (in `storage`) and sends it in
   * the body, simplejwt's contract. `"cookie"`: the issuer keeps it in an HttpOnly cookie
   * (`JWT_AUTH_REFRESH_COOKIE`, dj-rest-auth's cookie mode); the client never sees it, sends
   * `credentials: "include"` and the CSRF header, and restores the session from the cookie
   * when a page loads.
   */
  mode?: "bearer" | "cookie";
  /** Issuer origin, e.g. `"https://auth.example.com"`; default `""` (same origin). */
  baseUrl?: string;
  /**
   * Other origins that take the bearer, e.g. `["https://api.example.com"]`. The access token
   * goes only to the issuer's origin and these; {@link AuthClient.fetch} to any other URL
   * sends no `Authorization`.
   */
  apiOrigins?: string[];
  /** Cookie mode: Django's CSRF_COOKIE_NAME, the cookie whose value is sent back; default `"csrftoken"`. */
  csrfCookieName?: string;
  /** Cookie mode: Django's CSRF_HEADER_NAME, as a header or as Django writes it (`HTTP_X_CSRFTOKEN`); default `"X-CSRFToken"`. */
  csrfHeaderName?: string;
  /**
   * Endpoint paths; defaults are simplejwt's `/api/token/`, `/api/token/refresh/`,
   * `/api/token/blacklist/`, and edgejwt's `/api/sessions/` and `/api/password/change/`.
   */
  paths?: { obtain?: string; refresh?: string; blacklist?: string; sessions?: string; passwordChange?: string };
  /** Where tokens live (in cookie mode: the access token); default `"memory"`. Web storage falls back to memory where unavailable. */
  storage?: StorageName | TokenStorage;
  /** Storage key; default `"edgejwt"`. */
  storageKey?: string;
  /** Seconds before the access token's `exp` to refresh it (clock-skew margin); default 30, capped at half the token's lifetime. */
  refreshLeeway?: number;
  /** Authorization header type; default `"Bearer"` (simplejwt's `AUTH_HEADER_TYPES[0]`). */
  authHeaderType?: string;
  /** BroadcastChannel name and Web Lock name prefix; default `"edgejwt"`. */
  channelName?: string;
  /** The fetch used for every request; default `globalThis.fetch`. */
  fetch?: typeof fetch;
  /**
   * The issuer's `REFRESH_TOKEN_REUSE_INTERVAL` in seconds; default 10 (edgejwt's default).
   * A refresh whose answer is lost (no response, a timeout, a 5xx) may have rotated the
   * token at the issuer: within this interval the client sends the same refresh token again
   * (a few times) and the issuer answers with the same new refresh token. Each refresh
   * attempt then waits at most half of it for an answer. `0` turns this off (plain simplejwt,
   * which has no such grace window: a resent token is blacklisted there).
   */
  reuseInterval?: number;
}

/**
 * The events of {@link AuthClient}, all `CustomEvent`s. They fire in every tab of the origin:
 * a login, refresh, logout or revocation in one tab is also announced in the others.
 *
 * - `revoked`: the issuer ended this session (`detail.sid`). Either a refresh was answered
 *   401 "Token is blacklisted" (a logout everywhere or a password change on another device,
 *   an admin, the issuer's reuse detection; `detail.error` is the refusal, and `authfailure`
 *   follows), or this client revoked it ({@link AuthClient.logoutEverywhere},
 *   {@link AuthClient.revokeSession} of its own session; `detail.error` is `null`, and
 *   `logout` follows). Other tabs get it with their `authfailure` or `logout`.
 * - `refreshretry`: only in the tab that refreshes: a refresh's answer was lost and the same
 *   refresh token is sent again within the issuer's reuse interval (`detail.attempt` counts
 *   from 1).
 *
 * @example
 * client.addEventListener("authfailure", (e) => router.push("/login?reason=" + e.detail.error.code));
 * client.addEventListener("revoked", (e) => toast(`Signed out: session ${e.detail.sid} was ended elsewhere`));
 */
export interface AuthClientEventMap {
  login: CustomEvent<null>;
  refresh: CustomEvent<null>;
  logout: CustomEvent<null>;
  authfailure: CustomEvent<{ error: AuthError }>;
  revoked: CustomEvent<{ sid: string | null; error: AuthError | null }>;
  refreshretry: CustomEvent<{ attempt: number; error: AuthError }>;
}

const SYNC_WAIT_MS = 100; // a new tab waits this long for other tabs' tokens (memory storage)
const HANDOFF_WAIT_MS = 2_000; // wait for tokens another tab has just rotated
const RESEND_DELAYS_MS = [250, 500, 1_000]; // before each resend of a refresh whose answer was lost
const BLACKLISTED = "Token is blacklisted"; // simplejwt's detail for a blacklisted token (or revoked session)

/** Did `error` come from a refresh whose answer was lost, so the issuer may have rotated the token? */
function answerLost(error: unknown): error is AuthError {
  return error instanceof AuthError && error.code === "network_error" && (error.status === undefined || error.status >= 500);
}

/**
 * A browser (or Node) client for an edgejwt or simplejwt issuer. It keeps one session per
 * origin: tabs share tokens over a BroadcastChannel, serialise refreshes with a Web Lock, and
 * never send a rotated-out refresh token, so refresh-token rotation with blacklisting (and
 * the issuer's reuse detection) never signs a tab out by accident. The one token sent again is
 * the one whose refresh answer was lost, within the issuer's reuse interval, where the issuer
 * answers with the same new token.
 *
 * Events (`CustomEvent`): `login`, `refresh`, `logout`, `authfailure` with `detail.error`
 * when the session could not be renewed, `revoked` when the issuer ended the session, and
 * `refreshretry` (see {@link AuthClientEventMap}).
 *
 * @example
 * import { AuthClient } from "edgejwt/client";
 *
 * const auth = new AuthClient({ storage: "localStorage" });
 * await auth.ready;
 * if (!auth.isAuthenticated) await auth.login("alice", "alice-password-1");
 * const me = await (await auth.fetch("/api/protected/")).json();
 * auth.addEventListener("authfailure", () => location.assign("/login"));
 */
export class AuthClient extends EventTarget {
  /**
   * Resolves once the stored tokens are loaded (and, with nothing stored, once other tabs had a
   * moment to share theirs). Every method waits for it; await it before reading getters.
   *
   * @example
   * await client.ready;
   * console.log(client.isAuthenticated);
   */
  readonly ready: Promise<void>;

  readonly #http: IssuerHttp;
  readonly #channelName: string;
  readonly #state: SessionState;
  readonly #timer: RefreshTimer;
  readonly #channel: TabChannel;
  readonly #generation: GenerationLock;
  readonly #reuseIntervalMs: number;
  readonly #cookie: boolean;
  #inflight: Promise<void> | null = null;
  #waiters = new Set<() => void>();
  #closed = false;
  #lastHeld: Session | null = null; // the last session this tab held, to name it when revoked
  #revokedV = 0; // `revoked` has fired for the sessions up to this version

  /**
   * Creates a client; it loads stored tokens in the background (see {@link AuthClient.ready})
   * and schedules the next refresh.
   *
   * @example
   * const client = new AuthClient({ baseUrl: "https://auth.example.com", storage: "sessionStorage" });
   */
  constructor(options: AuthClientOptions = {}) {
    super();
    if (options.mode !== undefined && options.mode !== "bearer" && options.mode !== "cookie") {
      throw new TypeError(`edgejwt: unknown mode ${JSON.stringify(options.mode)}`);
    }
    this.#cookie = options.mode === "cookie";
    const csrf = { csrfCookieName: options.csrfCookieName ?? "csrftoken", csrfHeaderName: headerName(options.csrfHeaderName ?? "X-CSRFToken") };
    this.#http = new IssuerHttp(options.baseUrl ?? "", options.paths, options.authHeaderType ?? "Bearer", options.fetch, this.#cookie ? csrf : null, options.apiOrigins);
    this.#channelName = options.channelName ?? "edgejwt";
    this.#state = new SessionState(resolveStorage(options.storage), options.storageKey ?? "edgejwt", {
      accepted: (s) => {
        this.#lastHeld = s;
        this.#timer.reset();
        void this.#generation.hold(s.v);
        for (const waiter of [...this.#waiters]) waiter();
      },
      dropped: () => {
        this.#timer.cancel();
        this.#generation.release();
      },
      changed: (kind) => this.#emit(kind),
    }, this.#cookie);
    const leeway = Number(options.refreshLeeway ?? 30);
    const lead = Number.isFinite(leeway) ? Math.max(0, leeway) : 30;
    this.#timer = new RefreshTimer(
      () => {
        const s = this.#state.current;
        return s ? refreshDueAt(s, lead) : null;
      },
      () => this.refresh(),
    );
    const reuse = Number(options.reuseInterval ?? 10);
    this.#reuseIntervalMs = Number.isFinite(reuse) ? Math.max(0, reuse) * 1000 : 10_000;
    this.#channel = new TabChannel(this.#channelName, (data) => this.#onMessage(data));
    this.#generation = new GenerationLock(this.#channelName);
    this.ready = this.#load();
  }

  /**
   * The current access token, or `null` when signed out. It may be expired; {@link AuthClient.fetch}
   * refreshes it first.
   *
   * @example
   * ws.send(JSON.stringify({ token: client.accessToken }));
   */
  get accessToken(): string | null {
    return this.#state.current?.access ?? null;
  }

  /**
   * The decoded (unverified) payload of the access token, e.g. `user_id`, `exp`, and any
   * `TOKEN_CLAIMS`; `null` when signed out.
   *
   * @example
   * const userId = client.claims?.user_id;
   */
  get claims(): Record<string, unknown> | null {
    const s = this.#state.current;
    const payload = s ? payloadOf(s.access) : null;
    return payload ? { ...payload } : null;
  }

  /**
   * Whether there is a session whose refresh token has not expired (by its `exp`) or been refused.
   *
   * @example
   * if (!client.isAuthenticated) router.push("/login");
   */
  get isAuthenticated(): boolean {
    const s = this.#state.current;
    return s !== null && refreshUsable(s);
  }

  /**
   * Signs in with a username and password (`POST paths.obtain`), stores the pair and shares it
   * with the other tabs. Rejects with `AuthError("invalid_credentials")` (with the issuer's
   * `status` and `detail`) when refused.
   *
   * @example
   * await client.login("alice", "alice-password-1");
   */
  async login(username: string, password: string): Promise<void> {
    await this.ready;
    const pair = await this.#http.obtain(username, password);
    await this.#install(pair.access, pair.refresh, "login", this.#state.loginVersion());
  }

  /**
   * Signs out: blacklists the newest refresh token at the issuer (`POST paths.blacklist`, best
   * effort; in cookie mode the cookie's, which the issuer clears), clears storage, and signs
   * out the other tabs. Runs under the refresh lock, so a rotation in another tab cannot
   * resurrect the session.
   *
   * @example
   * await client.logout();
   */
  async logout(): Promise<void> {
    await this.ready;
    await withRefreshLock(this.#channelName, async () => {
      const current = await this.#state.reload();
      // In cookie mode the cookie may outlive what this tab holds: clear it either way.
      if (current || this.#cookie) {
        try {
          await this.#http.blacklist(current?.refresh ?? "");
        } catch {
          // best effort: the session ends here anyway
        }
      }
      if (current) await this.#end("logout");
      else await this.#state.clearStored(Number.MAX_SAFE_INTEGER);
    });
  }

  /**
   * Renews the access token now (`POST paths.refresh`), storing the rotated refresh token.
   * Single-flight: concurrent calls share one request, and tabs take turns under a Web Lock,
   * adopting the tokens another tab has just obtained instead of refreshing again. Rejects with
   * `AuthError("refresh_failed")` (session cleared, `authfailure` dispatched) when the issuer
   * refuses the refresh token. In cookie mode without a session it tries the cookie (what a
   * page load does by itself), rejecting with `refresh_failed` when there is none.
   *
   * @example
   * await Promise.all([client.refresh(), client.refresh()]); // one request
   */
  async refresh(): Promise<void> {
    await this.ready;
    return this.#refreshShared();
  }

  #refreshShared(): Promise<void> {
    if (!this.#inflight) {
      this.#inflight = this.#refreshOnce().finally(() => {
        this.#inflight = null;
      });
    }
    return this.#inflight;
  }

  /**
   * `fetch` with `Authorization: <authHeaderType> <access>` (replacing any given one). Refreshes
   * first when the access token has expired; on a 401 it refreshes once (shared with concurrent
   * callers) and retries once; a second 401, or a 401 when no refresh is possible, is returned
   * as is. A string starting with `/` is resolved against `baseUrl`. The token goes only to the
   * issuer's origin and `apiOrigins`: a request to any other URL is sent as given, without it.
   *
   * @example
   * const res = await client.fetch("/api/protected/");
   * const res2 = await client.fetch("/api/items/", { method: "POST", body: JSON.stringify(item), headers: { "Content-Type": "application/json" } });
   */
  async fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    await this.ready;
    const request = new Request(this.#http.resolve(input), init); // kept unread: each attempt sends a clone
    if (!this.#http.bearerAllowed(request.url)) return this.#http.send(request, null);
    let refreshed = false;
    const before = this.#state.current;
    if (before && accessExpired(before)) {
      refreshed = true;
      await this.refresh().catch(() => undefined);
    }
    const sent = this.#state.current?.access ?? null;
    const res = await this.#http.send(request, sent);
    if (res.status !== 401 || sent === null) return res;
    if (this.#state.current?.access === sent) {
      if (refreshed) return res; // refreshed just now and still refused: not a token problem
      try {
        await this.refresh();
      } catch {
        return res;
      }
    }
    const next = this.#state.current?.access;
    if (!next || next === sent) return res;
    await res.body?.cancel().catch(() => undefined);
    return this.#http.send(request, next);
  }

  /**
   * The user's active sessions at the issuer (`GET paths.sessions`, through
   * {@link AuthClient.fetch}), newest first; `current` marks this client's. Rejects with an
   * {@link AuthError}: `not_authenticated` (401), `network_error`, ...
   *
   * @example
   * const others = (await client.sessions()).filter((s) => !s.current);
   */
  async sessions(): Promise<ActiveSession[]> {
    return sessionList(await this.#account("GET", this.#http.paths.sessions, undefined, "session list"));
  }

  /**
   * Revokes one of the user's sessions (`DELETE paths.sessions + sid + "/"`): its refresh
   * tokens stop working, so that device is signed out at its next refresh. Revoking this
   * client's own session also ends it here and in every tab (`revoked`, then `logout`).
   * Rejects with `AuthError("not_found")` for a sid that is not one of the user's sessions.
   *
   * @example
   * for (const s of await client.sessions()) if (!s.current) await client.revokeSession(s.sid);
   */
  async revokeSession(sid: string): Promise<void> {
    await this.#account("DELETE", `${this.#http.paths.sessions}${encodeURIComponent(sid)}/`, undefined, "session revocation");
    if (sid === sidOf(this.#state.current)) await this.#endRevoked();
  }

  /**
   * Logs out everywhere (`POST paths.sessions + "revoke-all/"`): the issuer revokes every
   * session of the user, this one included; then the session ends here and in every tab
   * (`revoked`, then `logout`), and other devices are signed out at their next refresh.
   * Resolves with the number of sessions revoked. When the issuer cannot be reached it
   * rejects (`network_error`) and keeps the session, so the call can be retried.
   *
   * @example
   * const n = await client.logoutEverywhere();
   */
  async logoutEverywhere(): Promise<number> {
    const body = await this.#account("POST", `${this.#http.paths.sessions}revoke-all/`, undefined, "logout everywhere");
    await this.#endRevoked();
    const revoked = (body as { revoked?: unknown } | null)?.revoked;
    return typeof revoked === "number" ? revoked : 0;
  }

  /**
   * Changes the user's password (`POST paths.passwordChange` with Django's field names). The
   * issuer then revokes the user's other sessions; this one stays (unless the issuer is set to
   * log out on a password change: then the next refresh fires `revoked`). Rejects with
   * `AuthError("invalid")` whose `fields` are the issuer's field errors, e.g.
   * `{ old_password: ["Your old password was entered incorrectly. Please enter it again."] }`
   * or the password validators' messages under `new_password2`.
   *
   * @example
   * try {
   *   await client.changePassword(old, next, again);
   * } catch (err) {
   *   if (err instanceof AuthError && err.fields) for (const [field, messages] of Object.entries(err.fields)) form.showError(field, messages);
   * }
   */
  async changePassword(oldPassword: string, newPassword1: string, newPassword2: string): Promise<void> {
    const json = { old_password: oldPassword, new_password1: newPassword1, new_password2: newPassword2 };
    await this.#account("POST", this.#http.paths.passwordChange, json, "password change");
  }

  /**
   * Stops the refresh timer, the BroadcastChannel and the Web Lock this client holds. The
   * stored tokens stay; a new client picks them up.
   *
   * @example
   * window.addEventListener("pagehide", () => client.close());
   */
  close(): void {
    this.#closed = true;
    this.#timer.close();
    this.#channel.close();
    this.#generation.close();
    for (const waiter of [...this.#waiters]) waiter();
  }

  // ---- session lifecycle ---------------------------------------------------------------

  async #load(): Promise<void> {
    await this.#state.load();
    if (!this.#state.current && this.#channel.open) {
      // Memory storage (or a fresh sessionStorage): ask the other tabs for the session.
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.#waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, SYNC_WAIT_MS);
        this.#waiters.add(done);
        this.#channel.post({ type: "sync" });
      });
    }
    // Cookie mode after a reload: the session is in the cookie. Without a readable CSRF cookie
    // there was no login (or the refresh would be refused anyway): no request.
    if (this.#cookie && !this.#state.current && this.#http.csrfToken() !== null) {
      await this.#refreshShared().catch(() => undefined);
    }
    this.#timer.schedule();
  }

  /**
   * A pair this tab just obtained, version `v`: becomes the session everywhere, unless a newer
   * one (a later login in another tab, a logout) got there first.
   */
  async #install(access: string, refresh: string, kind: "login" | "refresh", v: number): Promise<void> {
    const session = sessionOf(access, refresh, v);
    if (!this.#state.accept(session)) return;
    await this.#state.persist(session);
    this.#channel.post({ type: "session", session, kind });
    // Announce the new generation before the refresh lock is released (see #refreshOnce).
    await this.#generation.hold(v);
    this.#emit(kind);
  }

  /** Ends the session here, in storage and in the other tabs; `revoked`: the issuer ended it. */
  async #end(reason: "logout" | "authfailure", error?: AuthError, revoked = false): Promise<void> {
    const s = this.#state.drop();
    if (!s) return;
    await this.#state.clearStored(s.v);
    this.#channel.post({ type: "end", v: s.v, reason, status: error?.status, detail: error?.detail, ...(revoked ? { revoked } : {}) });
    if (revoked) this.#announceRevoked(s, s.v, error ?? null);
    this.#emit(reason, error ? { error } : null);
  }

  /** The issuer revoked this client's session on its request: end it (under the refresh lock, as logout). */
  async #endRevoked(): Promise<void> {
    await withRefreshLock(this.#channelName, async () => {
      if (await this.#state.reload()) await this.#end("logout", undefined, true);
    });
  }

  /** Fires `revoked` for session `s` once, for the sessions up to version `v`. */
  #announceRevoked(s: Session, v: number, error: AuthError | null): void {
    if (s.v <= this.#revokedV) return;
    this.#revokedV = Math.max(v, s.v);
    this.#emit("revoked", { sid: sidOf(s), error });
  }

  /** An account call through {@link AuthClient.fetch}: the answer's body, or its AuthError. */
  async #account(method: string, path: string, json: unknown, what: string): Promise<unknown> {
    await this.ready;
    const headers: Record<string, string> = { Accept: "application/json" };
    if (json !== undefined) headers["Content-Type"] = "application/json";
    let res: Response;
    try {
      res = await this.fetch(path, {
        method,
        headers,
        // Revoking this session clears the refresh cookie: the browser must take that Set-Cookie.
        ...(this.#cookie ? { credentials: "include" as const } : {}),
        ...(json !== undefined ? { body: JSON.stringify(json) } : {}),
        ...(typeof AbortSignal.timeout === "function" ? { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) } : {}),
      });
    } catch (cause) {
      throw new AuthError("network_error", "edgejwt: could not reach the issuer", { cause });
    }
    return accountAnswer(res, what);
  }

  async #refreshOnce(): Promise<void> {
    const before = this.#state.current;
    if (!before && !this.#cookie) throw new AuthError("not_authenticated", "edgejwt: not signed in");
    await withRefreshLock(this.#channelName, async () => {
      const current = await this.#state.reload();
      if (!current && !before) return this.#restore();
      if (!current) throw new AuthError("not_authenticated", "edgejwt: signed out");
      if (credentialOf(current) !== credentialOf(before)) return; // another tab rotated: adopted
      // Another tab may have rotated just before we got the lock while its tokens are still
      // on their way (storage and BroadcastChannel are not ordered with the lock). Its Web
      // Lock "<channel>:gen:<v>" is: wait for the tokens rather than spend a dead token.
      if ((await this.#generation.newest()) > current.v) {
        await this.#awaitNewer(current.v);
        const latest = this.#state.current;
        if (!latest) throw new AuthError("not_authenticated", "edgejwt: signed out");
        if (credentialOf(latest) !== credentialOf(current)) return;
      }
      await this.#rotate(current);
    });
  }

  /**
   * Cookie mode, no session held (a page load, or after a failed start): a refresh with the
   * cookie, under the refresh lock, unless another tab has just made one (then it is adopted).
   * Refused (no cookie, CSRF): `refresh_failed`, and nothing to end.
   */
  async #restore(): Promise<void> {
    if ((await this.#generation.newest()) > 0 && (await this.#awaitNewer(0))) return;
    const pair = await this.#refreshResending(null);
    if (pair && !this.#state.current) await this.#install(pair.access, "", "login", this.#state.loginVersion());
  }

  async #rotate(current: Session): Promise<void> {
    let pair: { access: string; refresh?: string } | null;
    try {
      pair = await this.#refreshResending(current);
    } catch (error) {
      if (!(error instanceof AuthError) || error.code !== "refresh_failed") throw error;
      // Refused. If another tab got a newer pair meanwhile, use it.
      const latest = await this.#state.reload();
      if (latest && credentialOf(latest) !== credentialOf(current)) return;
      if (credentialOf(this.#state.current) === credentialOf(current)) {
        const revoked = error.status === 401 && error.detail === BLACKLISTED;
        await this.#end("authfailure", error, revoked);
      }
      throw error;
    }
    if (!pair) return; // a newer session arrived meanwhile: adopted
    // Without ROTATE_REFRESH_TOKENS the issuer answers only {access}: keep the refresh token
    // (in cookie mode always `""`: the browser keeps the cookie).
    await this.#install(pair.access, pair.refresh ?? current.refresh, "refresh", current.v + 1);
  }

  /**
   * Refreshes with `current.refresh` (cookie mode: the cookie; `current` null: restoring).
   * When the answer is lost, the issuer may have rotated the token and its answer held the
   * only copy of the new one: within the reuse interval (counted from the first send, with a
   * margin for the trip) the issuer answers a resend of the same token with the same new
   * token, so resend it, a few times. Always this token, never one read from storage: this
   * tab holds the refresh lock, so no other tab has rotated it. `null` when a newer session
   * (a login in another tab) replaced `current` meanwhile.
   */
  async #refreshResending(current: Session | null): Promise<{ access: string; refresh?: string } | null> {
    const token = current?.refresh ?? "";
    const windowMs = this.#reuseIntervalMs;
    if (windowMs === 0) return this.#http.refresh(token);
    const lastSend = Date.now() + windowMs - Math.max(1_000, windowMs / 5);
    const timeout = Math.min(REQUEST_TIMEOUT_MS, Math.max(1_000, windowMs / 2));
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#http.refresh(token, timeout);
      } catch (error) {
        const delay = RESEND_DELAYS_MS[attempt];
        if (!answerLost(error) || delay === undefined || Date.now() + delay > lastSend) throw error;
        this.#emit("refreshretry", { attempt: attempt + 1, error });
        await new Promise((resolve) => setTimeout(resolve, delay));
        const latest = await this.#state.reload();
        if (!current) continue; // restoring: the cookie is resent as the browser holds it
        if (!latest) throw new AuthError("not_authenticated", "edgejwt: signed out");
        if (credentialOf(latest) !== credentialOf(current)) return null;
      }
    }
  }

  /** Waits until a session newer than version `v` arrives (broadcast or storage); false on timeout. */
  #awaitNewer(v: number): Promise<boolean> {
    return new Promise((resolve) => {
      const arrived = () => (this.#state.current?.v ?? 0) > v;
      const finish = (ok: boolean) => {
        clearTimeout(timer);
        clearInterval(poll);
        this.#waiters.delete(check);
        resolve(ok);
      };
      const check = () => {
        if (arrived() || this.#closed) finish(arrived());
      };
      const timer = setTimeout(() => finish(arrived()), HANDOFF_WAIT_MS);
      const poll = setInterval(() => void this.#state.reload().then(check), 50);
      this.#waiters.add(check);
      this.#channel.post({ type: "sync" });
      check();
    });
  }

  // ---- tabs ------------------------------------------------------------------------------

  #onMessage(message: Message): void {
    if (this.#closed) return;
    if (message.type === "sync") {
      const current = this.#state.current;
      if (current) this.#channel.post({ type: "session", session: current, kind: "sync" });
    } else if (message.type === "session") {
      // Checked as storage is: a forged or malformed session is dropped, an older one loses to ours.
      const session = this.#state.parse(message.session);
      const had = this.#state.current !== null;
      if (session && this.#state.accept(session)) {
        void this.#state.persist(session);
        this.#emit(had ? "refresh" : "login");
      }
    } else if (message.type === "end") {
      if (this.#state.endedElsewhere(message.v)) {
        const s = this.#state.drop();
        void this.#state.clearStored(message.v);
        const error =
          message.reason === "authfailure"
            ? new AuthError("refresh_failed", message.detail ?? "edgejwt: refresh failed in another tab", {
                status: message.status,
                detail: message.detail,
              })
            : undefined;
        if (message.revoked && s) this.#announceRevoked(s, message.v, error ?? null);
        this.#emit(message.reason === "authfailure" ? "authfailure" : "logout", error ? { error } : null);
      } else if (message.revoked && !this.#state.current && this.#lastHeld && this.#lastHeld.v <= message.v) {
        // Storage told this tab of the end first (a `logout` event): the message says why.
        this.#announceRevoked(this.#lastHeld, message.v, null);
      }
    }
  }

  #emit(type: keyof AuthClientEventMap, detail: unknown = null): void {
    const event = typeof CustomEvent === "function" ? new CustomEvent(type, { detail }) : Object.assign(new Event(type), { detail });
    this.dispatchEvent(event);
  }
}

// Typed listeners: `client.addEventListener("authfailure", (e) => e.detail.error.code)`.
type Listener<K extends keyof AuthClientEventMap> = (this: AuthClient, event: AuthClientEventMap[K]) => unknown;
export interface AuthClient {
  addEventListener<K extends keyof AuthClientEventMap>(type: K, listener: Listener<K>, options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | AddEventListenerOptions): void;
  removeEventListener<K extends keyof AuthClientEventMap>(type: K, listener: Listener<K>, options?: boolean | EventListenerOptions): void;
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | EventListenerOptions): void;
}
