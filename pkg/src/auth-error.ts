// The client's one error type (client.ts re-exports it). Its codes are the client's part of
// edgejwt-core's ErrorCode table (a type-only import: the client loads no wasm): they say
// what the app should do next.
import type { ErrorCode } from "./wasm/edgejwt.js";

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
export type AuthErrorCode = Extract<ErrorCode, "invalid_credentials" | "refresh_failed" | "not_authenticated" | "network_error">;

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
