import type { ErrorCode } from "./wasm/edgejwt.js";

/** Stable error codes, generated from edgejwt-core's ErrorCode table (the issuer logs the same). */
export type { ErrorCode };

/** simplejwt's JSON error body: `{detail, code?, messages?}`. */
export interface ErrorBody {
  detail: string;
  code?: string;
  messages?: { token_class: string; token_type: string; message: string }[];
}

/**
 * Every error edgejwt throws: `message`/`detail` is simplejwt's text, `code` a stable
 * {@link ErrorCode}, `status` the HTTP status and `body` simplejwt's JSON body.
 *
 * @example
 * try { await verifier.verify(token) } catch (e) {
 *   if (e instanceof EdgeJwtError && e.code === "token_expired") refresh();
 * }
 */
export class EdgeJwtError extends Error {
  override readonly name = "EdgeJwtError";
  readonly code: ErrorCode;
  readonly status: number;
  readonly detail: string;
  readonly body: ErrorBody;
  /** `WWW-Authenticate` to send with a 401 (`Bearer realm="api"`). */
  readonly wwwAuthenticate: string;

  constructor(code: ErrorCode, detail: string, status = 401, body?: ErrorBody, wwwAuthenticate = 'Bearer realm="api"') {
    super(detail);
    this.code = code;
    this.detail = detail;
    this.status = status;
    this.body = body ?? { detail };
    this.wwwAuthenticate = wwwAuthenticate;
  }

  /** The response simplejwt would send for this error. */
  toResponse(): Response {
    const headers: Record<string, string> = { "Content-Type": "application/json" };
    if (this.status === 401) headers["WWW-Authenticate"] = this.wwwAuthenticate;
    return new Response(JSON.stringify(this.body), { status: this.status, headers });
  }
}
