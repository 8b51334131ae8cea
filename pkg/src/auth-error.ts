// The client's one error type (client.ts re-exports it). Its codes are the client's part of
// edgejwt-core's ErrorCode table (a type-only import: the client loads no wasm): they say
// what the app should do next.
import type { ErrorCode } from "./wasm/edgejwt.js";

/**
 * Why an {@link AuthError} happened:
 * - `invalid_credentials`: the issuer refused the username and password (4xx on login);
 * - `refresh_failed`: the refresh token was refused (blacklisted, expired, user gone); the
 *   session has been cleared in every tab;
 * - `not_authenticated`: there is no session to refresh, or an account call (sessions,
 *   password change) was refused with a 401/403;
 * - `network_error`: the issuer could not be reached or answered 5xx/408; the session is
 *   kept and the refresh retried later;
 * - `throttled`: too many failed logins (DRF's throttle, 429); `retryAfter` is the wait in
 *   seconds (`Retry-After`);
 * - `invalid`: an account call was refused with a 400 (DRF's field errors, in `fields`), or
 *   another 4xx;
 * - `not_found`: the session to revoke is not one of the user's (404).
 *
 * @example
 * if (err instanceof AuthError && err.code === "network_error") showOfflineBanner();
 */
export type AuthErrorCode = Extract<
  ErrorCode,
  "invalid_credentials" | "refresh_failed" | "not_authenticated" | "network_error" | "invalid" | "not_found" | "throttled"
>;

/**
 * The error of every rejected {@link AuthClient} call. `status` is the issuer's HTTP status
 * and `detail` its `detail` message (or its field errors as one line), when there was an
 * answer; `fields` holds DRF's field errors of a 400, e.g.
 * `{ old_password: ["Your old password was entered incorrectly. Please enter it again."] }`;
 * `retryAfter` the seconds a throttled (429) request must wait (its `Retry-After`).
 *
 * @example
 * try {
 *   await client.login("alice", "wrong");
 * } catch (err) {
 *   if (err instanceof AuthError && err.code === "throttled") form.showError(`Too many attempts: wait ${err.retryAfter} s`);
 *   else if (err instanceof AuthError && err.code === "invalid_credentials") form.showError(err.detail);
 * }
 */
export class AuthError extends Error {
  readonly code: AuthErrorCode;
  readonly status?: number;
  readonly detail?: string;
  readonly fields?: Record<string, string[]>;
  readonly retryAfter?: number;
  constructor(
    code: AuthErrorCode,
    message: string,
    options: { status?: number; detail?: string; fields?: Record<string, string[]>; retryAfter?: number; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "AuthError";
    this.code = code;
    if (options.status !== undefined) this.status = options.status;
    if (options.detail !== undefined) this.detail = options.detail;
    if (options.fields !== undefined) this.fields = options.fields;
    if (options.retryAfter !== undefined) this.retryAfter = options.retryAfter;
  }
}
