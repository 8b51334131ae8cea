// The client's requests to the issuer (simplejwt's obtain, refresh and blacklist endpoints)
// and to the app's API: URLs, where the bearer may go, cookie mode's credentials and CSRF
// header, timeouts, and what each answer means as an AuthError.
// (The session API's answers are read in account.ts.)
import { AuthError, type AuthErrorCode } from "./auth-error.js";

/** Endpoint paths of the issuer. */
export interface IssuerPaths {
  obtain: string;
  refresh: string;
  blacklist: string;
  /** edgejwt's session API: `GET` lists, `DELETE <sid>/` revokes one, `POST revoke-all/` all. */
  sessions: string;
  passwordChange: string;
}

/** simplejwt's paths, and edgejwt's for sessions and the password. */
const DEFAULT_PATHS: IssuerPaths = {
  obtain: "/api/token/",
  refresh: "/api/token/refresh/",
  blacklist: "/api/token/blacklist/",
  sessions: "/api/sessions/",
  passwordChange: "/api/password/change/",
};
export const REQUEST_TIMEOUT_MS = 30_000; // requests to the issuer
/** The issuer's D1 read-replica bookmark, in answers and sent back (`D1_READ_REPLICAS`). */
const BOOKMARK_HEADER = "X-D1-Bookmark";

type Fetch = (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>;

/** This page's URL, against which relative URLs resolve; none outside a browser. */
const pageHref = (): string | undefined => (globalThis as { location?: { href?: string } }).location?.href;
type Answer = { res: Response; body: Record<string, unknown> };

/**
 * Cookie mode (dj-rest-auth's JWT cookie): the refresh token lives in an HttpOnly cookie the
 * browser sends by itself (`credentials: "include"`), and every cookie-authenticated request
 * carries the CSRF cookie's value in the CSRF header (Django's double submit).
 */
export interface CookieMode {
  /** Django's CSRF_COOKIE_NAME. */
  csrfCookieName: string;
  /** Django's CSRF_HEADER_NAME as a header (`HTTP_X_CSRFTOKEN` → `X-CSRFToken`). */
  csrfHeaderName: string;
}

/** Django's CSRF_HEADER_NAME is a WSGI META key (`HTTP_X_CSRFTOKEN`); fetch wants the header. */
export function headerName(name: string): string {
  return name.startsWith("HTTP_") ? name.slice(5).replace(/_/g, "-") : name;
}

/** The value of cookie `name` as this page sees it (`document.cookie`, as sent: a CSRF token is alphanumeric); `null` without one. */
export function readCookie(name: string): string | null {
  const jar = (globalThis as { document?: { cookie?: string } }).document?.cookie ?? "";
  for (const pair of jar.split(";")) {
    const eq = pair.indexOf("=");
    if (eq > 0 && pair.slice(0, eq).trim() === name) return pair.slice(eq + 1).trim();
  }
  return null;
}

/**
 * DRF's wait for a throttled request, in seconds: its `Retry-After`, else the number in its
 * detail, since across origins the header is readable only if the issuer exposes it
 * (`CORS_EXPOSE_HEADERS`).
 */
export function retryAfterOf(res: Response, detail = ""): number | undefined {
  const seconds = Number(res.headers.get("Retry-After") ?? /available in (\d+) second/.exec(detail)?.[1] ?? NaN);
  return seconds >= 0 ? Math.ceil(seconds) : undefined;
}

/** simplejwt's `detail`, or its field errors (`{"username": ["This field is required."]}`) as one line. */
export function detailOf(body: Record<string, unknown>): string | undefined {
  if (typeof body.detail === "string") return body.detail;
  const parts = Object.entries(body).map(([k, v]) => `${k}: ${([] as unknown[]).concat(v).join(" ")}`);
  return parts.length ? parts.join("; ") : undefined;
}

export function isTransient(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

/** The error for an answer without tokens: `throttled` for a 429, `refused` for another 4xx, `network_error` otherwise. */
function failure({ res, body }: Answer, what: string, refused: AuthErrorCode): AuthError {
  const detail = detailOf(body);
  const throttled = res.status === 429;
  const code = throttled ? "throttled" : res.ok || isTransient(res.status) ? "network_error" : refused;
  const retryAfter = throttled ? retryAfterOf(res, detail) : undefined;
  return new AuthError(code, detail ?? `edgejwt: ${what} failed with status ${res.status}`, {
    status: res.status,
    detail,
    ...(retryAfter !== undefined ? { retryAfter } : {}),
  });
}

/** The issuer and the app's API as the client calls them. */
export class IssuerHttp {
  readonly #baseUrl: string;
  readonly paths: Readonly<IssuerPaths>;
  readonly #headerType: string;
  readonly #fetch: Fetch;
  readonly #cookie: CookieMode | null;
  readonly #bearerOrigins: Set<string>;
  readonly #issuerOrigin: string | null;
  /**
   * The issuer's last D1 bookmark (`X-D1-Bookmark`, sent with `D1_READ_REPLICAS` on): sent
   * back on every request to the issuer, so its replica reads start at least there and this
   * client reads its own writes (a rotation, a logout, then the session list).
   */
  #bookmark: string | null = null;

  constructor(
    baseUrl: string,
    paths: Partial<IssuerPaths> | undefined,
    headerType: string,
    custom: typeof fetch | undefined,
    cookie: CookieMode | null = null,
    apiOrigins: readonly string[] = [],
  ) {
    this.#baseUrl = baseUrl.replace(/\/+$/, "");
    this.paths = {
      obtain: paths?.obtain ?? DEFAULT_PATHS.obtain,
      refresh: paths?.refresh ?? DEFAULT_PATHS.refresh,
      blacklist: paths?.blacklist ?? DEFAULT_PATHS.blacklist,
      sessions: paths?.sessions ?? DEFAULT_PATHS.sessions,
      passwordChange: paths?.passwordChange ?? DEFAULT_PATHS.passwordChange,
    };
    this.#headerType = headerType;
    // Called unbound: window.fetch throws "Illegal invocation" when called on another object.
    this.#fetch = custom ? (input, init) => custom(input, init) : (input, init) => globalThis.fetch(input, init);
    this.#cookie = cookie;
    // The bearer goes to the issuer's origin and the listed API origins only: a token sent
    // to any URL the app happens to fetch would leak the session.
    const here = pageHref();
    const issuer = this.#baseUrl || here;
    this.#issuerOrigin = issuer ? new URL(issuer, here).origin : null;
    this.#bearerOrigins = new Set();
    for (const url of [issuer, ...apiOrigins]) if (url) this.#bearerOrigins.add(new URL(url, here).origin);
  }

  /** The origin `url` goes to (a relative one: this page's); `null` when it has none. */
  #originOf(url: string): string | null {
    try {
      return new URL(url, pageHref()).origin;
    } catch {
      return null;
    }
  }

  /** Sends the issuer's last bookmark with a request to `origin` if it is the issuer's, and keeps the answer's. */
  async #withBookmark(origin: string | null, fetchIt: (bookmark: string | null) => Promise<Response>): Promise<Response> {
    const issuer = origin !== null && origin === this.#issuerOrigin;
    const res = await fetchIt(issuer ? this.#bookmark : null);
    const bookmark = issuer ? res.headers.get(BOOKMARK_HEADER) : null;
    if (bookmark) this.#bookmark = bookmark;
    return res;
  }

  /** A path starting with `/` against `baseUrl`; anything else as given. */
  resolve(input: RequestInfo | URL): RequestInfo | URL {
    return typeof input === "string" && input.startsWith("/") && !input.startsWith("//") ? this.#baseUrl + input : input;
  }

  /** May the bearer go to `url` (the issuer's origin or one of `apiOrigins`)? */
  bearerAllowed(url: string): boolean {
    return this.#bearerTo(this.#originOf(url));
  }

  #bearerTo(origin: string | null): boolean {
    return origin !== null && this.#bearerOrigins.has(origin);
  }

  /** The CSRF token to send (cookie mode): the CSRF cookie's value, if this page can read it. */
  csrfToken(): string | null {
    return this.#cookie ? readCookie(this.#cookie.csrfCookieName) : null;
  }

  /**
   * A token pair for a username and password; `invalid_credentials` when refused. In cookie
   * mode `refresh` is `""`: the issuer set it as a cookie, and a refresh token in the body is
   * dropped unread.
   */
  async obtain(username: string, password: string): Promise<{ access: string; refresh: string }> {
    const answer = await this.#post(this.paths.obtain, { username, password });
    const { res, body } = answer;
    if (res.ok && typeof body.access === "string" && typeof body.refresh === "string") {
      if (this.#cookie) {
        // Without it every refresh fails: the issuer is not in cookie mode, or the cookie's
        // domain (CSRF_COOKIE_DOMAIN) does not cover this page.
        if (this.csrfToken() === null && typeof document !== "undefined") {
          throw new AuthError("invalid", `edgejwt: no ${this.#cookie.csrfCookieName} cookie after login: is the issuer in cookie mode?`);
        }
        return { access: body.access, refresh: "" };
      }
      if (body.refresh === "") {
        throw new AuthError("invalid", 'edgejwt: the refresh token is in an HttpOnly cookie: use mode: "cookie"');
      }
      return { access: body.access, refresh: body.refresh };
    }
    throw failure(answer, "login", "invalid_credentials");
  }

  /**
   * A new access token, and a new refresh token under ROTATE_REFRESH_TOKENS (in cookie mode
   * the browser stores it; `refresh` is then ignored); `refresh_failed` when refused,
   * `network_error` (without `status` when no answer came) when it may not have been
   * handled. `timeoutMs` bounds the wait for the answer.
   */
  async refresh(refresh: string, timeoutMs = REQUEST_TIMEOUT_MS): Promise<{ access: string; refresh?: string }> {
    const answer = await this.#post(this.paths.refresh, this.#cookie ? {} : { refresh }, timeoutMs);
    const { res, body } = answer;
    if (res.ok && typeof body.access === "string") {
      const rotated = !this.#cookie && typeof body.refresh === "string" ? { refresh: body.refresh } : {};
      return { access: body.access, ...rotated };
    }
    throw failure(answer, "refresh", "refresh_failed");
  }

  /** Blacklists a refresh token (in cookie mode: the cookie's, which the issuer clears). The answer does not matter: logout goes on. */
  async blacklist(refresh: string): Promise<void> {
    await this.#post(this.paths.blacklist, this.#cookie ? {} : { refresh });
  }

  /** `request` (a clone) with `Authorization: <type> <access>` when it goes to an origin the bearer may go to. */
  send(request: Request, access: string | null): Promise<Response> {
    const attempt = request.clone();
    const origin = this.#originOf(attempt.url);
    if (access && this.#bearerTo(origin)) attempt.headers.set("Authorization", `${this.#headerType} ${access}`);
    return this.#withBookmark(origin, (bookmark) => {
      if (bookmark) attempt.headers.set(BOOKMARK_HEADER, bookmark);
      return this.#fetch(attempt);
    });
  }

  /** POSTs JSON and reads the whole answer, so no response body is left open; `network_error` without one. */
  async #post(path: string, json: unknown, timeoutMs = REQUEST_TIMEOUT_MS): Promise<Answer> {
    const url = /^[a-z][a-z0-9+.-]*:/i.test(path) ? path : this.#baseUrl + path;
    const signal = typeof AbortSignal.timeout === "function" ? AbortSignal.timeout(timeoutMs) : undefined;
    const headers: Record<string, string> = { "Content-Type": "application/json", Accept: "application/json" };
    const csrf = this.csrfToken();
    if (this.#cookie && csrf !== null) headers[this.#cookie.csrfHeaderName] = csrf;
    let res: Response;
    let text: string;
    try {
      res = await this.#withBookmark(this.#originOf(url), (bookmark) =>
        this.#fetch(url, {
          method: "POST",
          headers: bookmark ? { ...headers, [BOOKMARK_HEADER]: bookmark } : headers,
          body: JSON.stringify(json),
          ...(this.#cookie ? { credentials: "include" as const } : {}),
          ...(signal ? { signal } : {}),
        }),
      );
      text = await res.text();
    } catch (cause) {
      throw new AuthError("network_error", "edgejwt: could not reach the issuer", { cause });
    }
    let body: Record<string, unknown> = {};
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)) body = parsed as Record<string, unknown>;
    } catch {
      // not JSON
    }
    return { res, body };
  }
}
