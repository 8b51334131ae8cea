// The SPA client of edgejwt: signs in against a simplejwt-compatible issuer, keeps the access
// token fresh before it expires, rotates refresh tokens safely across tabs, and retries a
// request once after a 401. Plain TypeScript, no runtime dependencies, no wasm: it only
// decodes JWT payloads (base64url + JSON.parse) to read `exp` and `iat`; it never verifies a
// signature (that is the server's job).

import { resolveStorage, type StorageName, type TokenStorage } from "./storage.js";

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
  /** Issuer origin, e.g. `"https://auth.example.com"`; default `""` (same origin). */
  baseUrl?: string;
  /** Endpoint paths; defaults are simplejwt's `/api/token/`, `/api/token/refresh/`, `/api/token/blacklist/`. */
  paths?: { obtain?: string; refresh?: string; blacklist?: string };
  /** Where tokens live; default `"memory"`. Web storage falls back to memory where unavailable. */
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
}

/**
 * Why an {@link AuthError} happened:
 * - `invalid_credentials`: the issuer refused the username and password (4xx on login);
 * - `refresh_failed`: the refresh token was refused (blacklisted, expired, user gone); the
 *   session has been cleared in every tab;
 * - `not_authenticated`: there is no session to refresh;
 * - `network_error`: the issuer could not be reached or answered 5xx/408/429; the session is
 *   kept and the refresh retried later.
 *
 * @example
 * if (err instanceof AuthError && err.code === "network_error") showOfflineBanner();
 */
export type AuthErrorCode = "invalid_credentials" | "refresh_failed" | "not_authenticated" | "network_error";

/**
 * The error of every rejected {@link AuthClient} call. `status` is the issuer's HTTP status
 * and `detail` its `detail` message, when there was an answer.
 *
 * @example
 * try {
 *   await client.login("alice", "wrong");
 * } catch (err) {
 *   if (err instanceof AuthError && err.code === "invalid_credentials") form.showError(err.detail);
 * }
 */
export class AuthError extends Error {
  readonly code: AuthErrorCode;
  readonly status?: number;
  readonly detail?: string;
  constructor(code: AuthErrorCode, message: string, options: { status?: number; detail?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "AuthError";
    this.code = code;
    if (options.status !== undefined) this.status = options.status;
    if (options.detail !== undefined) this.detail = options.detail;
  }
}

/**
 * The events of {@link AuthClient}, all `CustomEvent`s. They fire in every tab of the origin:
 * a login, refresh or logout in one tab is also announced in the others.
 *
 * @example
 * client.addEventListener("authfailure", (e) => router.push("/login?reason=" + e.detail.error.code));
 */
export interface AuthClientEventMap {
  login: CustomEvent<null>;
  refresh: CustomEvent<null>;
  logout: CustomEvent<null>;
  authfailure: CustomEvent<{ error: AuthError }>;
}

/**
 * A token pair plus `v`, its version: the login's time in ms, +1 per rotation, so a later login
 * beats any rotation of an older session, and `skew`: the issuer's clock minus ours, in s.
 */
interface Session {
  access: string;
  refresh: string;
  v: number;
  skew: number;
}

type Message =
  | { type: "session"; session: Session; kind: "login" | "refresh" | "sync" }
  | { type: "end"; v: number; reason: "logout" | "authfailure"; status?: number; detail?: string }
  | { type: "sync" };

const DEFAULT_PATHS = { obtain: "/api/token/", refresh: "/api/token/refresh/", blacklist: "/api/token/blacklist/" };
const MAX_DELAY_MS = 2_147_483_647; // setTimeout's limit
const REQUEST_TIMEOUT_MS = 30_000; // requests to the issuer
const SYNC_WAIT_MS = 100; // a new tab waits this long for other tabs' tokens (memory storage)
const HANDOFF_WAIT_MS = 2_000; // wait for tokens another tab has just rotated
const RETRY_MS = [1_000, 2_000, 5_000, 10_000, 30_000]; // timer retries after network errors
const MIN_TIMER_INTERVAL_MS = 1_000; // never refresh from the timer more often than this

// Where the Web Locks API is missing (Node, insecure origins): in-process mutexes, and the
// newest session version per channel (what the "<channel>:gen:<v>" locks tell otherwise).
const localLocks = new Map<string, Promise<void>>();
const localGenerations = new Map<string, number>();

function lockManager(): LockManager | undefined {
  const nav = (globalThis as { navigator?: Navigator }).navigator;
  return nav?.locks && typeof nav.locks.request === "function" ? nav.locks : undefined;
}

/** The payload of a JWT, decoded without verification; `null` when it is not one. */
function decodePayload(token: string): Record<string, unknown> | null {
  const part = token.split(".")[1];
  if (!part) return null;
  try {
    const b64 = part.replace(/-/g, "+").replace(/_/g, "/");
    const binary = atob(b64 + "===".slice((b64.length + 3) % 4));
    const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
    const value: unknown = JSON.parse(new TextDecoder().decode(bytes));
    return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function numberClaim(payload: Record<string, unknown> | null, name: string): number | undefined {
  const value = payload?.[name];
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

function asSession(value: unknown): Session | null {
  if (value === null || typeof value !== "object") return null;
  const s = value as Partial<Session>;
  if (typeof s.access !== "string" || typeof s.refresh !== "string") return null;
  return {
    access: s.access,
    refresh: s.refresh,
    v: typeof s.v === "number" && Number.isFinite(s.v) ? s.v : 0,
    skew: typeof s.skew === "number" && Number.isFinite(s.skew) ? s.skew : 0,
  };
}

function parseSession(raw: string | null): Session | null {
  if (!raw) return null;
  try {
    return asSession(JSON.parse(raw));
  } catch {
    return null;
  }
}

/** Is `a` a newer session than `b`? Versions first; equal versions are ordered by token so all tabs agree. */
function newer(a: Session, b: Session | null): boolean {
  if (!b) return true;
  return a.v > b.v || (a.v === b.v && a.refresh > b.refresh);
}

/** simplejwt's `detail`, or its field errors (`{"username": ["This field is required."]}`) as one line. */
function detailOf(body: Record<string, unknown>): string | undefined {
  if (typeof body.detail === "string") return body.detail;
  const parts = Object.entries(body).map(([k, v]) => `${k}: ${([] as unknown[]).concat(v).join(" ")}`);
  return parts.length ? parts.join("; ") : undefined;
}

function isTransient(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

/**
 * A browser (or Node) client for an edgejwt or simplejwt issuer. It keeps one session per
 * origin: tabs share tokens over a BroadcastChannel, serialise refreshes with a Web Lock, and
 * never send the same refresh token twice, so refresh-token rotation with blacklisting never
 * signs a tab out by accident.
 *
 * Events (`CustomEvent`): `login`, `refresh`, `logout`, and `authfailure` with
 * `detail.error` when the session could not be renewed.
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

  readonly #baseUrl: string;
  readonly #paths: { obtain: string; refresh: string; blacklist: string };
  readonly #storage: TokenStorage;
  readonly #key: string;
  readonly #leeway: number;
  readonly #headerType: string;
  readonly #channelName: string;
  readonly #fetch: (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>;
  #channel: BroadcastChannel | null = null;
  #session: Session | null = null;
  #inStorage = false; // the current session was read from or written to storage
  #endedV = 0; // sessions up to this version ended (logout, refused refresh): never adopt them again
  #inflight: Promise<void> | null = null;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #failures = 0;
  #lastTimerRefresh = 0;
  #generation: { v: number; release: () => void; granted: Promise<void> } | null = null;
  #waiters = new Set<() => void>();
  #decoded = new Map<string, Record<string, unknown> | null>();
  #closed = false;
  #wake: (() => void) | null = null;

  /**
   * Creates a client; it loads stored tokens in the background (see {@link AuthClient.ready})
   * and schedules the next refresh.
   *
   * @example
   * const client = new AuthClient({ baseUrl: "https://auth.example.com", storage: "sessionStorage" });
   */
  constructor(options: AuthClientOptions = {}) {
    super();
    this.#baseUrl = (options.baseUrl ?? "").replace(/\/+$/, "");
    this.#paths = {
      obtain: options.paths?.obtain ?? DEFAULT_PATHS.obtain,
      refresh: options.paths?.refresh ?? DEFAULT_PATHS.refresh,
      blacklist: options.paths?.blacklist ?? DEFAULT_PATHS.blacklist,
    };
    this.#storage = resolveStorage(options.storage);
    this.#key = options.storageKey ?? "edgejwt";
    const leeway = Number(options.refreshLeeway ?? 30);
    this.#leeway = Number.isFinite(leeway) ? Math.max(0, leeway) : 30;
    this.#headerType = options.authHeaderType ?? "Bearer";
    this.#channelName = options.channelName ?? "edgejwt";
    const custom = options.fetch;
    // Called unbound: window.fetch throws "Illegal invocation" when called on another object.
    this.#fetch = custom ? (input, init) => custom(input, init) : (input, init) => globalThis.fetch(input, init);

    if (typeof BroadcastChannel === "function") {
      try {
        const channel = new BroadcastChannel(this.#channelName);
        channel.onmessage = (event: MessageEvent) => this.#onMessage(event.data);
        this.#channel = channel;
      } catch {
        this.#channel = null;
      }
    }
    // Timers are throttled in background tabs: catch up when the tab is shown or back online.
    if (typeof addEventListener === "function" && typeof document !== "undefined") {
      const wake = () => {
        if (document.visibilityState !== "hidden") this.#schedule();
      };
      document.addEventListener("visibilitychange", wake);
      addEventListener("online", wake);
      this.#wake = () => {
        document.removeEventListener("visibilitychange", wake);
        removeEventListener("online", wake);
      };
    }
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
    return this.#session?.access ?? null;
  }

  /**
   * The decoded (unverified) payload of the access token, e.g. `user_id`, `exp`, and any
   * `TOKEN_CLAIMS`; `null` when signed out.
   *
   * @example
   * const userId = client.claims?.user_id;
   */
  get claims(): Record<string, unknown> | null {
    const payload = this.#session ? this.#payload(this.#session.access) : null;
    return payload ? { ...payload } : null;
  }

  /**
   * Whether there is a session whose refresh token has not expired (by its `exp`) or been refused.
   *
   * @example
   * if (!client.isAuthenticated) router.push("/login");
   */
  get isAuthenticated(): boolean {
    const s = this.#session;
    if (!s) return false;
    const exp = numberClaim(this.#payload(s.refresh), "exp");
    return exp === undefined || (exp - s.skew) * 1000 > Date.now();
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
    let answer: { res: Response; body: Record<string, unknown> };
    try {
      answer = await this.#post(this.#paths.obtain, { username, password });
    } catch (cause) {
      throw new AuthError("network_error", "edgejwt: could not reach the issuer", { cause });
    }
    const { res, body } = answer;
    if (res.ok && typeof body.access === "string" && typeof body.refresh === "string") {
      // Sessions are ordered by login time, the rotations of one session by count (below).
      const v = Math.max(Date.now(), (this.#session?.v ?? 0) + 1, this.#endedV + 1);
      await this.#install(body.access, body.refresh, "login", v);
      return;
    }
    const detail = detailOf(body);
    const code = res.ok || isTransient(res.status) ? "network_error" : "invalid_credentials";
    throw new AuthError(code, detail ?? `edgejwt: login failed with status ${res.status}`, { status: res.status, detail });
  }

  /**
   * Signs out: blacklists the newest refresh token at the issuer (`POST paths.blacklist`, best
   * effort), clears storage, and signs out the other tabs. Runs under the refresh lock, so a
   * rotation in another tab cannot resurrect the session.
   *
   * @example
   * await client.logout();
   */
  async logout(): Promise<void> {
    await this.ready;
    await this.#withLock(async () => {
      const current = await this.#reload();
      if (current) {
        try {
          await this.#post(this.#paths.blacklist, { refresh: current.refresh });
        } catch {
          // best effort: the session ends here anyway
        }
        await this.#end("logout");
      } else {
        await this.#clearStorage(Number.MAX_SAFE_INTEGER);
      }
    });
  }

  /**
   * Renews the access token now (`POST paths.refresh`), storing the rotated refresh token.
   * Single-flight: concurrent calls share one request, and tabs take turns under a Web Lock,
   * adopting the tokens another tab has just obtained instead of refreshing again. Rejects with
   * `AuthError("refresh_failed")` (session cleared, `authfailure` dispatched) when the issuer
   * refuses the refresh token.
   *
   * @example
   * await Promise.all([client.refresh(), client.refresh()]); // one request
   */
  async refresh(): Promise<void> {
    await this.ready;
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
   * as is. A string starting with `/` is resolved against `baseUrl`. Only pass URLs of your own
   * API: the token goes wherever the request goes.
   *
   * @example
   * const res = await client.fetch("/api/protected/");
   * const res2 = await client.fetch("/api/items/", { method: "POST", body: JSON.stringify(item), headers: { "Content-Type": "application/json" } });
   */
  async fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    await this.ready;
    const resolved = typeof input === "string" && input.startsWith("/") && !input.startsWith("//") ? this.#baseUrl + input : input;
    const request = new Request(resolved, init); // kept unread: each attempt sends a clone
    let refreshed = false;
    if (this.#session && this.#expired(this.#session)) {
      refreshed = true;
      await this.refresh().catch(() => undefined);
    }
    const sent = this.#session?.access ?? null;
    const res = await this.#send(request, sent);
    if (res.status !== 401 || sent === null) return res;
    if (this.#session?.access === sent) {
      if (refreshed) return res; // refreshed just now and still refused: not a token problem
      try {
        await this.refresh();
      } catch {
        return res;
      }
    }
    const next = this.#session?.access;
    if (!next || next === sent) return res;
    await res.body?.cancel().catch(() => undefined);
    return this.#send(request, next);
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
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#channel?.close();
    this.#channel = null;
    this.#releaseGeneration();
    this.#wake?.();
    this.#wake = null;
    for (const waiter of [...this.#waiters]) waiter();
  }

  // ---- session state -------------------------------------------------------------------

  async #load(): Promise<void> {
    try {
      const stored = parseSession(await this.#storage.get(this.#key));
      if (stored && this.#accept(stored)) this.#inStorage = true;
    } catch {
      // unreadable storage: start signed out
    }
    if (!this.#session && this.#channel) {
      // Memory storage (or a fresh sessionStorage): ask the other tabs for the session.
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.#waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, SYNC_WAIT_MS);
        this.#waiters.add(done);
        this.#broadcast({ type: "sync" });
      });
    }
    this.#schedule();
  }

  /** Makes `s` the session if it is newer than ours and not ended; reschedules. (Also after close(): a refresh in flight must still store the rotated token.) */
  #accept(s: Session): boolean {
    if (s.v <= this.#endedV || !newer(s, this.#session)) return false;
    this.#session = s;
    this.#inStorage = false;
    this.#failures = 0;
    this.#schedule();
    void this.#holdGeneration(s.v);
    for (const waiter of [...this.#waiters]) waiter();
    return true;
  }

  /**
   * A pair this tab just obtained, version `v`: becomes the session everywhere, unless a newer
   * one (a later login in another tab, a logout) got there first.
   */
  async #install(access: string, refresh: string, kind: "login" | "refresh", v: number): Promise<void> {
    const iat = numberClaim(this.#payload(access), "iat");
    // The issuer's clock minus ours. `iat` is truncated to the second and was stamped before the
    // answer travelled, so +1 errs towards refreshing early, never late.
    const skew = iat === undefined ? 0 : iat + 1 - Date.now() / 1000;
    const session: Session = { access, refresh, v, skew };
    if (!this.#accept(session)) return;
    await this.#persist(session);
    this.#broadcast({ type: "session", session, kind });
    // Announce the new generation before the refresh lock is released (see #refreshOnce).
    await this.#holdGeneration(v);
    this.#emit(kind);
  }

  /** Ends the session here, in storage and in the other tabs. */
  async #end(reason: "logout" | "authfailure", error?: AuthError): Promise<void> {
    const s = this.#drop();
    if (!s) return;
    await this.#clearStorage(s.v);
    this.#broadcast({ type: "end", v: s.v, reason, status: error?.status, detail: error?.detail });
    this.#emit(reason, error);
  }

  #drop(): Session | null {
    const s = this.#session;
    if (s) this.#endedV = Math.max(this.#endedV, s.v);
    this.#session = null;
    this.#inStorage = false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#releaseGeneration();
    return s;
  }

  /** Re-reads storage, adopting a newer session from it; notices a logout by another tab. */
  async #reload(): Promise<Session | null> {
    let stored: Session | null;
    try {
      stored = parseSession(await this.#storage.get(this.#key));
    } catch {
      return this.#session;
    }
    if (stored) {
      const had = this.#session !== null;
      if (this.#accept(stored)) {
        this.#inStorage = true;
        this.#emit(had ? "refresh" : "login");
      } else if (stored.refresh === this.#session?.refresh) {
        this.#inStorage = true;
      }
    } else if (this.#session && this.#inStorage) {
      // It was stored and is gone: another tab signed out.
      this.#drop();
      this.#emit("logout");
    }
    return this.#session;
  }

  async #persist(s: Session): Promise<void> {
    try {
      const stored = parseSession(await this.#storage.get(this.#key));
      const write = !stored || newer(s, stored);
      if (write) await this.#storage.set(this.#key, JSON.stringify(s));
      if (this.#session === s && (write || stored?.refresh === s.refresh)) this.#inStorage = true;
    } catch {
      // full or blocked storage: the session lives on in memory and in the other tabs
    }
  }

  async #clearStorage(v: number): Promise<void> {
    try {
      const stored = parseSession(await this.#storage.get(this.#key));
      if (stored && stored.v <= v) await this.#storage.remove(this.#key);
    } catch {
      // nothing more to do
    }
  }

  // ---- refresh ---------------------------------------------------------------------------

  async #refreshOnce(): Promise<void> {
    const before = this.#session;
    if (!before) throw new AuthError("not_authenticated", "edgejwt: not signed in");
    await this.#withLock(async () => {
      const current = await this.#reload();
      if (!current) throw new AuthError("not_authenticated", "edgejwt: signed out");
      if (current.refresh !== before.refresh) return; // another tab rotated: adopted
      // Another tab may have rotated just before we got the lock while its tokens are still
      // on their way (storage and BroadcastChannel are not ordered with the lock). Its Web
      // Lock "<channel>:gen:<v>" is: wait for the tokens rather than spend a dead token.
      if ((await this.#newestGeneration()) > current.v) {
        await this.#awaitNewer(current.v);
        const latest = this.#session;
        if (!latest) throw new AuthError("not_authenticated", "edgejwt: signed out");
        if (latest.refresh !== current.refresh) return;
      }
      await this.#rotate(current);
    });
  }

  async #rotate(current: Session): Promise<void> {
    let answer: { res: Response; body: Record<string, unknown> };
    try {
      answer = await this.#post(this.#paths.refresh, { refresh: current.refresh });
    } catch (cause) {
      throw new AuthError("network_error", "edgejwt: could not reach the issuer", { cause });
    }
    const { res, body } = answer;
    if (res.ok && typeof body.access === "string") {
      // Without ROTATE_REFRESH_TOKENS the issuer answers only {access}: keep the refresh token.
      const refresh = typeof body.refresh === "string" ? body.refresh : current.refresh;
      await this.#install(body.access, refresh, "refresh", current.v + 1);
      return;
    }
    const detail = detailOf(body);
    const message = detail ?? `edgejwt: refresh failed with status ${res.status}`;
    if (res.ok || isTransient(res.status)) throw new AuthError("network_error", message, { status: res.status, detail });
    // Refused. If another tab got a newer pair meanwhile, use it.
    const latest = await this.#reload();
    if (latest && latest.refresh !== current.refresh) return;
    const error = new AuthError("refresh_failed", message, { status: res.status, detail });
    if (this.#session?.refresh === current.refresh) await this.#end("authfailure", error);
    throw error;
  }

  /** Runs `fn` holding the exclusive refresh lock of the origin (or of this JS realm without Web Locks). */
  async #withLock<T>(fn: () => Promise<T>): Promise<T> {
    const name = `${this.#channelName}:refresh`;
    const locks = lockManager();
    if (locks) return locks.request(name, { mode: "exclusive" }, () => fn()) as Promise<T>;
    const previous = localLocks.get(name) ?? Promise.resolve();
    const run = previous.then(fn);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    localLocks.set(name, tail);
    void tail.then(() => {
      if (localLocks.get(name) === tail) localLocks.delete(name);
    });
    return run;
  }

  /** Holds the shared lock "<channel>:gen:<v>" while this tab uses session version `v`. */
  #holdGeneration(v: number): Promise<void> {
    const locks = lockManager();
    if (!locks) localGenerations.set(this.#channelName, Math.max(v, localGenerations.get(this.#channelName) ?? 0));
    if (!locks || this.#closed) return Promise.resolve();
    if (this.#generation?.v === v) return this.#generation.granted;
    this.#releaseGeneration();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const granted = new Promise<void>((resolve) => {
      locks
        .request(`${this.#channelName}:gen:${v}`, { mode: "shared" }, () => {
          resolve();
          return held;
        })
        .catch(() => resolve());
    });
    this.#generation = { v, release, granted };
    return granted;
  }

  #releaseGeneration(): void {
    this.#generation?.release();
    this.#generation = null;
  }

  /** The newest session version some tab of the origin holds, from the Web Locks it holds. */
  async #newestGeneration(): Promise<number> {
    const locks = lockManager();
    if (!locks || typeof locks.query !== "function") return localGenerations.get(this.#channelName) ?? 0;
    try {
      const prefix = `${this.#channelName}:gen:`;
      let newest = 0;
      for (const lock of (await locks.query()).held ?? []) {
        if (lock.name?.startsWith(prefix)) newest = Math.max(newest, Number(lock.name.slice(prefix.length)) || 0);
      }
      return newest;
    } catch {
      return 0;
    }
  }

  /** Waits until a session newer than version `v` arrives (broadcast or storage); false on timeout. */
  #awaitNewer(v: number): Promise<boolean> {
    return new Promise((resolve) => {
      const arrived = () => (this.#session?.v ?? 0) > v;
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
      const poll = setInterval(() => void this.#reload().then(check), 50);
      this.#waiters.add(check);
      this.#broadcast({ type: "sync" });
      check();
    });
  }

  // ---- timer -----------------------------------------------------------------------------

  /** When (ms, our clock) the access token of `s` is due for refresh; null without `exp`. */
  #dueAt(s: Session): number | null {
    const payload = this.#payload(s.access);
    const exp = numberClaim(payload, "exp");
    if (exp === undefined) return null;
    const iat = numberClaim(payload, "iat");
    // A leeway longer than the token lives would refresh in a loop: cap it at half the lifetime.
    const lead = iat !== undefined && exp > iat ? Math.min(this.#leeway, (exp - iat) / 2) : this.#leeway;
    return (exp - s.skew - lead) * 1000;
  }

  #expired(s: Session): boolean {
    const exp = numberClaim(this.#payload(s.access), "exp");
    return exp !== undefined && (exp - s.skew) * 1000 <= Date.now();
  }

  #schedule(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const s = this.#session;
    if (!s || this.#closed) return;
    const due = this.#dueAt(s);
    if (due === null) return;
    const now = Date.now();
    let delay = Math.max(due - now, this.#lastTimerRefresh + MIN_TIMER_INTERVAL_MS - now, 0);
    if (this.#failures > 0) delay = Math.max(delay, RETRY_MS[Math.min(this.#failures, RETRY_MS.length) - 1] ?? 0);
    this.#timer = setTimeout(() => this.#onTimer(), Math.min(delay, MAX_DELAY_MS));
  }

  #onTimer(): void {
    this.#timer = undefined;
    const s = this.#session;
    if (!s || this.#closed) return;
    const due = this.#dueAt(s);
    if (due !== null && due > Date.now() + 25 && this.#failures === 0) return this.#schedule(); // long delay, capped
    this.#lastTimerRefresh = Date.now();
    this.refresh().then(
      () => undefined,
      (error: unknown) => {
        if (error instanceof AuthError && error.code === "network_error" && this.#session) {
          this.#failures++;
          this.#schedule();
        }
      },
    );
  }

  // ---- tabs ------------------------------------------------------------------------------

  #broadcast(message: Message): void {
    try {
      this.#channel?.postMessage(message);
    } catch {
      // closed channel
    }
  }

  #onMessage(data: unknown): void {
    if (this.#closed || data === null || typeof data !== "object") return;
    const message = data as Message;
    if (message.type === "sync") {
      if (this.#session) this.#broadcast({ type: "session", session: this.#session, kind: "sync" });
    } else if (message.type === "session") {
      const session = asSession(message.session);
      const had = this.#session !== null;
      if (session && this.#accept(session)) {
        void this.#persist(session);
        this.#emit(had ? "refresh" : "login");
      }
    } else if (message.type === "end" && typeof message.v === "number") {
      this.#endedV = Math.max(this.#endedV, message.v);
      if (this.#session && this.#session.v <= message.v) {
        this.#drop();
        void this.#clearStorage(message.v);
        const error =
          message.reason === "authfailure"
            ? new AuthError("refresh_failed", message.detail ?? "edgejwt: refresh failed in another tab", {
                status: message.status,
                detail: message.detail,
              })
            : undefined;
        this.#emit(message.reason === "authfailure" ? "authfailure" : "logout", error);
      }
    }
  }

  // ---- helpers ---------------------------------------------------------------------------

  #emit(type: keyof AuthClientEventMap, error?: AuthError): void {
    const detail = error ? { error } : null;
    const event = typeof CustomEvent === "function" ? new CustomEvent(type, { detail }) : Object.assign(new Event(type), { detail });
    this.dispatchEvent(event);
  }

  #payload(token: string): Record<string, unknown> | null {
    let payload = this.#decoded.get(token);
    if (payload === undefined) {
      if (this.#decoded.size >= 8) this.#decoded.clear();
      payload = decodePayload(token);
      this.#decoded.set(token, payload);
    }
    return payload;
  }

  async #post(path: string, json: unknown): Promise<{ res: Response; body: Record<string, unknown> }> {
    const url = /^[a-z][a-z0-9+.-]*:/i.test(path) ? path : this.#baseUrl + path;
    const signal = typeof AbortSignal.timeout === "function" ? AbortSignal.timeout(REQUEST_TIMEOUT_MS) : undefined;
    const res = await this.#fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(json),
      ...(signal ? { signal } : {}),
    });
    // Read the whole answer here, so no response body is left open.
    const text = await res.text();
    let body: Record<string, unknown> = {};
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)) body = parsed as Record<string, unknown>;
    } catch {
      // not JSON
    }
    return { res, body };
  }

  #send(request: Request, access: string | null): Promise<Response> {
    const attempt = request.clone();
    if (access) attempt.headers.set("Authorization", `${this.#headerType} ${access}`);
    return this.#fetch(attempt);
  }
}

// Typed listeners: `client.addEventListener("authfailure", (e) => e.detail.error.code)`.
export interface AuthClient {
  addEventListener<K extends keyof AuthClientEventMap>(
    type: K,
    listener: (this: AuthClient, event: AuthClientEventMap[K]) => unknown,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | AddEventListenerOptions): void;
  removeEventListener<K extends keyof AuthClientEventMap>(
    type: K,
    listener: (this: AuthClient, event: AuthClientEventMap[K]) => unknown,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | EventListenerOptions): void;
}
