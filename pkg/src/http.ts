// The client's requests to the issuer (simplejwt's obtain, refresh and blacklist endpoints)
// and to the app's API: URLs, timeouts, and what each answer means as an AuthError.
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

type Fetch = (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>;
type Answer = { res: Response; body: Record<string, unknown> };

/** simplejwt's `detail`, or its field errors (`{"username": ["This field is required."]}`) as one line. */
export function detailOf(body: Record<string, unknown>): string | undefined {
  if (typeof body.detail === "string") return body.detail;
  const parts = Object.entries(body).map(([k, v]) => `${k}: ${([] as unknown[]).concat(v).join(" ")}`);
  return parts.length ? parts.join("; ") : undefined;
}

export function isTransient(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

/** The error for an answer without tokens: `refused` for a 4xx, `network_error` otherwise. */
function failure({ res, body }: Answer, what: string, refused: AuthErrorCode): AuthError {
  const detail = detailOf(body);
  const code = res.ok || isTransient(res.status) ? "network_error" : refused;
  return new AuthError(code, detail ?? `edgejwt: ${what} failed with status ${res.status}`, { status: res.status, detail });
}

/** The issuer and the app's API as the client calls them. */
export class IssuerHttp {
  readonly #baseUrl: string;
  readonly paths: Readonly<IssuerPaths>;
  readonly #headerType: string;
  readonly #fetch: Fetch;

  constructor(baseUrl: string, paths: Partial<IssuerPaths> | undefined, headerType: string, custom: typeof fetch | undefined) {
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
  }

  /** A path starting with `/` against `baseUrl`; anything else as given. */
  resolve(input: RequestInfo | URL): RequestInfo | URL {
    return typeof input === "string" && input.startsWith("/") && !input.startsWith("//") ? this.#baseUrl + input : input;
  }

  /** A token pair for a username and password; `invalid_credentials` when refused. */
  async obtain(username: string, password: string): Promise<{ access: string; refresh: string }> {
    const answer = await this.#post(this.paths.obtain, { username, password });
    const { res, body } = answer;
    if (res.ok && typeof body.access === "string" && typeof body.refresh === "string") return { access: body.access, refresh: body.refresh };
    throw failure(answer, "login", "invalid_credentials");
  }

  /**
   * A new access token, and a new refresh token under ROTATE_REFRESH_TOKENS; `refresh_failed`
   * when refused, `network_error` (without `status` when no answer came) when it may not have
   * been handled. `timeoutMs` bounds the wait for the answer.
   */
  async refresh(refresh: string, timeoutMs = REQUEST_TIMEOUT_MS): Promise<{ access: string; refresh?: string }> {
    const answer = await this.#post(this.paths.refresh, { refresh }, timeoutMs);
    const { res, body } = answer;
    if (res.ok && typeof body.access === "string") return { access: body.access, ...(typeof body.refresh === "string" ? { refresh: body.refresh } : {}) };
    throw failure(answer, "refresh", "refresh_failed");
  }

  /** Blacklists a refresh token (the answer does not matter: logout goes on). */
  async blacklist(refresh: string): Promise<void> {
    await this.#post(this.paths.blacklist, { refresh });
  }

  /** `request` (a clone) with `Authorization: <type> <access>`. */
  send(request: Request, access: string | null): Promise<Response> {
    const attempt = request.clone();
    if (access) attempt.headers.set("Authorization", `${this.#headerType} ${access}`);
    return this.#fetch(attempt);
  }

  /** POSTs JSON and reads the whole answer, so no response body is left open; `network_error` without one. */
  async #post(path: string, json: unknown, timeoutMs = REQUEST_TIMEOUT_MS): Promise<Answer> {
    const url = /^[a-z][a-z0-9+.-]*:/i.test(path) ? path : this.#baseUrl + path;
    const signal = typeof AbortSignal.timeout === "function" ? AbortSignal.timeout(timeoutMs) : undefined;
    let res: Response;
    let text: string;
    try {
      res = await this.#fetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify(json),
        ...(signal ? { signal } : {}),
      });
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
