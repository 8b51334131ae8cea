// The SPA client of edgejwt: signs in against a simplejwt-compatible issuer, keeps the access
// token fresh before it expires, rotates refresh tokens safely across tabs, and retries a
// request once after a 401. Plain TypeScript, no runtime dependencies, no wasm: it only
// decodes JWT payloads (base64url + JSON.parse) to read `exp` and `iat`; it never verifies a
// signature (that is the server's job).
//
// This file is the public entry (`edgejwt/client`) and the session's lifecycle; the parts live
// in session.ts (state, storage copy), scheduler.ts (refresh timer), tabs.ts (BroadcastChannel,
// Web Locks), http.ts (requests to the issuer) and storage.ts (storage adapters).

import { AuthError } from "./auth-error.js";
import { IssuerHttp } from "./http.js";
import { RefreshTimer, refreshDueAt } from "./scheduler.js";
import { accessExpired, asSession, payloadOf, refreshUsable, sessionOf, SessionState, type Session } from "./session.js";
import { resolveStorage, type StorageName, type TokenStorage } from "./storage.js";
import { GenerationLock, TabChannel, withRefreshLock, type Message } from "./tabs.js";

export { AuthError, type AuthErrorCode } from "./auth-error.js";
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

const SYNC_WAIT_MS = 100; // a new tab waits this long for other tabs' tokens (memory storage)
const HANDOFF_WAIT_MS = 2_000; // wait for tokens another tab has just rotated

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

  readonly #http: IssuerHttp;
  readonly #channelName: string;
  readonly #state: SessionState;
  readonly #timer: RefreshTimer;
  readonly #channel: TabChannel;
  readonly #generation: GenerationLock;
  #inflight: Promise<void> | null = null;
  #waiters = new Set<() => void>();
  #closed = false;

  /**
   * Creates a client; it loads stored tokens in the background (see {@link AuthClient.ready})
   * and schedules the next refresh.
   *
   * @example
   * const client = new AuthClient({ baseUrl: "https://auth.example.com", storage: "sessionStorage" });
   */
  constructor(options: AuthClientOptions = {}) {
    super();
    this.#http = new IssuerHttp(options.baseUrl ?? "", options.paths, options.authHeaderType ?? "Bearer", options.fetch);
    this.#channelName = options.channelName ?? "edgejwt";
    this.#state = new SessionState(resolveStorage(options.storage), options.storageKey ?? "edgejwt", {
      accepted: (s) => {
        this.#timer.reset();
        void this.#generation.hold(s.v);
        for (const waiter of [...this.#waiters]) waiter();
      },
      dropped: () => {
        this.#timer.cancel();
        this.#generation.release();
      },
      changed: (kind) => this.#emit(kind),
    });
    const leeway = Number(options.refreshLeeway ?? 30);
    const lead = Number.isFinite(leeway) ? Math.max(0, leeway) : 30;
    this.#timer = new RefreshTimer(
      () => {
        const s = this.#state.current;
        return s ? refreshDueAt(s, lead) : null;
      },
      () => this.refresh(),
    );
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
   * effort), clears storage, and signs out the other tabs. Runs under the refresh lock, so a
   * rotation in another tab cannot resurrect the session.
   *
   * @example
   * await client.logout();
   */
  async logout(): Promise<void> {
    await this.ready;
    await withRefreshLock(this.#channelName, async () => {
      const current = await this.#state.reload();
      if (current) {
        try {
          await this.#http.blacklist(current.refresh);
        } catch {
          // best effort: the session ends here anyway
        }
        await this.#end("logout");
      } else {
        await this.#state.clearStored(Number.MAX_SAFE_INTEGER);
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
    const request = new Request(this.#http.resolve(input), init); // kept unread: each attempt sends a clone
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

  /** Ends the session here, in storage and in the other tabs. */
  async #end(reason: "logout" | "authfailure", error?: AuthError): Promise<void> {
    const s = this.#state.drop();
    if (!s) return;
    await this.#state.clearStored(s.v);
    this.#channel.post({ type: "end", v: s.v, reason, status: error?.status, detail: error?.detail });
    this.#emit(reason, error);
  }

  async #refreshOnce(): Promise<void> {
    const before = this.#state.current;
    if (!before) throw new AuthError("not_authenticated", "edgejwt: not signed in");
    await withRefreshLock(this.#channelName, async () => {
      const current = await this.#state.reload();
      if (!current) throw new AuthError("not_authenticated", "edgejwt: signed out");
      if (current.refresh !== before.refresh) return; // another tab rotated: adopted
      // Another tab may have rotated just before we got the lock while its tokens are still
      // on their way (storage and BroadcastChannel are not ordered with the lock). Its Web
      // Lock "<channel>:gen:<v>" is: wait for the tokens rather than spend a dead token.
      if ((await this.#generation.newest()) > current.v) {
        await this.#awaitNewer(current.v);
        const latest = this.#state.current;
        if (!latest) throw new AuthError("not_authenticated", "edgejwt: signed out");
        if (latest.refresh !== current.refresh) return;
      }
      await this.#rotate(current);
    });
  }

  async #rotate(current: Session): Promise<void> {
    let pair: { access: string; refresh?: string };
    try {
      pair = await this.#http.refresh(current.refresh);
    } catch (error) {
      if (!(error instanceof AuthError) || error.code !== "refresh_failed") throw error;
      // Refused. If another tab got a newer pair meanwhile, use it.
      const latest = await this.#state.reload();
      if (latest && latest.refresh !== current.refresh) return;
      if (this.#state.current?.refresh === current.refresh) await this.#end("authfailure", error);
      throw error;
    }
    // Without ROTATE_REFRESH_TOKENS the issuer answers only {access}: keep the refresh token.
    await this.#install(pair.access, pair.refresh ?? current.refresh, "refresh", current.v + 1);
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

  #onMessage(data: unknown): void {
    if (this.#closed || data === null || typeof data !== "object") return;
    const message = data as Message;
    if (message.type === "sync") {
      const current = this.#state.current;
      if (current) this.#channel.post({ type: "session", session: current, kind: "sync" });
    } else if (message.type === "session") {
      const session = asSession(message.session);
      const had = this.#state.current !== null;
      if (session && this.#state.accept(session)) {
        void this.#state.persist(session);
        this.#emit(had ? "refresh" : "login");
      }
    } else if (message.type === "end" && typeof message.v === "number") {
      if (this.#state.endedElsewhere(message.v)) {
        this.#state.drop();
        void this.#state.clearStored(message.v);
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

  #emit(type: keyof AuthClientEventMap, error?: AuthError): void {
    const detail = error ? { error } : null;
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
