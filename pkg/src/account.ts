// The user's account at the issuer, as the client reads it: edgejwt's session API
// (`GET /api/sessions/`, `DELETE /api/sessions/<sid>/`, `POST /api/sessions/revoke-all/`) and
// the password change (`POST /api/password/change/`). The requests go through
// AuthClient.fetch (Bearer, refreshed on a 401); this file says what their answers mean.
import { AuthError } from "./auth-error.js";
import { detailOf, isTransient, retryAfterOf } from "./http.js";

/**
 * One of the user's active sessions (one login, kept through its rotations), as
 * `GET /api/sessions/` lists it: the issuer's fields, with its ISO 8601 times as `Date`s
 * (`null` when absent or unreadable). `current` marks the session of this client.
 *
 * @example
 * for (const s of await client.sessions()) console.log(s.sid, s.user_agent, s.current ? "(this device)" : "");
 */
export interface ActiveSession {
  sid: string;
  created_at: Date | null;
  last_used_at: Date | null;
  expires_at: Date | null;
  user_agent: string;
  current: boolean;
  /** Any other field the issuer sends, as sent. */
  [field: string]: unknown;
}

const TIMES = ["created_at", "last_used_at", "expires_at"] as const;

function dateOf(value: unknown): Date | null {
  if (typeof value !== "string" && typeof value !== "number") return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** A session of the list; `null` when `value` is not one (no `sid`). */
function activeSession(value: unknown): ActiveSession | null {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return null;
  const raw = value as Record<string, unknown>;
  if (typeof raw.sid !== "string") return null;
  const session: ActiveSession = {
    ...raw,
    sid: raw.sid,
    created_at: null,
    last_used_at: null,
    expires_at: null,
    user_agent: typeof raw.user_agent === "string" ? raw.user_agent : "",
    current: raw.current === true,
  };
  for (const name of TIMES) session[name] = dateOf(raw[name]);
  return session;
}

/** The answer of `GET sessions`: the sessions, newest first as the issuer orders them. */
export function sessionList(body: unknown): ActiveSession[] {
  if (!Array.isArray(body)) throw new AuthError("invalid", "edgejwt: the session list is not a JSON array");
  return body.map(activeSession).filter((s): s is ActiveSession => s !== null);
}

/** DRF's field errors (`{"new_password2": ["…"]}`), each field's messages as strings. */
function fieldErrors(body: Record<string, unknown>): Record<string, string[]> {
  const fields: Record<string, string[]> = {};
  for (const [name, messages] of Object.entries(body)) {
    fields[name] = ([] as unknown[]).concat(messages).map((m) => (typeof m === "string" ? m : JSON.stringify(m)));
  }
  return fields;
}

/**
 * The body of an account call's answer (`null` when empty or not JSON), or the AuthError its
 * status means: 400 `invalid` with `fields`, 401/403 `not_authenticated`, 404 `not_found`,
 * 429 `throttled` with `retryAfter` (a password change's wrong old passwords count as failed
 * logins), 5xx/408 `network_error`, any other 4xx `invalid`.
 */
export async function accountAnswer(res: Response, what: string): Promise<unknown> {
  let body: unknown = null;
  try {
    const text = await res.text();
    body = text ? JSON.parse(text) : null;
  } catch {
    // empty (204) or not JSON
  }
  if (res.ok) return body;
  const object = body !== null && typeof body === "object" && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
  const detail = detailOf(object);
  const status = res.status;
  const code =
    status === 401 || status === 403
      ? "not_authenticated"
      : status === 404
        ? "not_found"
        : status === 429
          ? "throttled"
          : isTransient(status)
            ? "network_error"
            : "invalid";
  const fields = status === 400 && typeof object.detail !== "string" && detail !== undefined ? fieldErrors(object) : undefined;
  const retryAfter = status === 429 ? retryAfterOf(res, detail) : undefined;
  throw new AuthError(code, detail ?? `edgejwt: ${what} failed with status ${status}`, {
    status,
    detail,
    ...(fields ? { fields } : {}),
    ...(retryAfter !== undefined ? { retryAfter } : {}),
  });
}
