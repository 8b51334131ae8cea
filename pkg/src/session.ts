// The client's session state: the token pair it holds, which sessions have ended, and the
// copy in storage. A session is ordered by its version so that every tab settles on the same
// one; what a pair's tokens say (exp, iat) is read here, unverified.
import { peekPayload } from "./jwt.js";
import type { TokenStorage } from "./storage.js";
import { plausibleVersion } from "./tabs.js";

/**
 * A token pair plus `v`, its version: the login's time in ms, +1 per rotation, so a later login
 * beats any rotation of an older session, and `skew`: the issuer's clock minus ours, in s.
 * In cookie mode `refresh` is `""`: the refresh token is in the browser's HttpOnly cookie.
 */
export interface Session {
  access: string;
  refresh: string;
  v: number;
  skew: number;
}

// Decoded payloads of the last few tokens: getters and the timer read them often.
const decoded = new Map<string, Record<string, unknown> | null>();

/** The unverified payload of `token`; `null` when it is not a JWT. */
export function payloadOf(token: string): Record<string, unknown> | null {
  let payload = decoded.get(token);
  if (payload === undefined) {
    if (decoded.size >= 8) decoded.clear();
    payload = peekPayload(token);
    decoded.set(token, payload);
  }
  return payload;
}

/** A numeric claim (`exp`, `iat`) of `token`. */
export function numberClaim(token: string, name: string): number | undefined {
  const value = payloadOf(token)?.[name];
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

/** The issuer's session id (`sid`, edgejwt's SESSION_CLAIM) of `s`'s access token; `null` without one. */
export function sidOf(s: Session | null): string | null {
  const sid = s ? payloadOf(s.access)?.sid : undefined;
  return typeof sid === "string" ? sid : null;
}

/** The session of a pair this tab just obtained, version `v`. */
export function sessionOf(access: string, refresh: string, v: number): Session {
  const iat = numberClaim(access, "iat");
  // The issuer's clock minus ours. `iat` is truncated to the second and was stamped before the
  // answer travelled, so +1 errs towards refreshing early, never late.
  const skew = iat === undefined ? 0 : iat + 1 - Date.now() / 1000;
  return { access, refresh, v, skew };
}

/** Has the access token of `s` expired (by its `exp`, on the issuer's clock)? */
export function accessExpired(s: Session): boolean {
  const exp = numberClaim(s.access, "exp");
  return exp !== undefined && (exp - s.skew) * 1000 <= Date.now();
}

/** Can the refresh token of `s` still be used (no `exp`, or not yet passed)? */
export function refreshUsable(s: Session): boolean {
  const exp = numberClaim(s.refresh, "exp");
  return exp === undefined || (exp - s.skew) * 1000 > Date.now();
}

const isJwt = (token: string) => payloadOf(token) !== null;

/**
 * A session from a message or storage; `null` when `value` is not one: an access token that is
 * a JWT, a refresh token that is a JWT (bearer) or `""` (`cookie` mode, which never takes a
 * refresh token from anywhere), a plausible version and a finite skew.
 */
export function asSession(value: unknown, cookie: boolean): Session | null {
  if (value === null || typeof value !== "object") return null;
  const { access, refresh, v, skew } = value as Partial<Session>;
  if (typeof access !== "string" || typeof refresh !== "string" || !isJwt(access)) return null;
  if (cookie ? refresh !== "" : !isJwt(refresh)) return null;
  if (!plausibleVersion(v)) return null;
  if (typeof skew !== "number" || !Number.isFinite(skew)) return null;
  return { access, refresh, v, skew };
}

/** What a session is renewed with: the refresh token, or in cookie mode the access token it got. */
export const credentialOf = (s: Session | null): string | undefined => (s ? s.refresh || s.access : undefined);

/** Is `a` a newer session than `b`? Versions first; equal versions are ordered by token so all tabs agree. */
function newer(a: Session, b: Session | null): boolean {
  if (!b) return true;
  return a.v > b.v || (a.v === b.v && credentialOf(a)! > credentialOf(b)!);
}

/** What the client does when the session changes. */
export interface SessionHooks {
  /** `s` became the session. */
  accepted(s: Session): void;
  /** The session was dropped. */
  dropped(): void;
  /** Storage showed a change another tab made. */
  changed(kind: "login" | "refresh" | "logout"): void;
}

/** The one session of a client, and its copy under `key` in storage. */
export class SessionState {
  readonly #storage: TokenStorage;
  readonly #key: string;
  readonly #hooks: SessionHooks;
  readonly #cookie: boolean;
  #current: Session | null = null;
  #inStorage = false; // the current session was read from or written to storage
  #endedV = 0; // sessions up to this version ended (logout, refused refresh): never adopt them again

  constructor(storage: TokenStorage, key: string, hooks: SessionHooks, cookie: boolean) {
    this.#storage = storage;
    this.#key = key;
    this.#hooks = hooks;
    this.#cookie = cookie;
  }

  /** A session from a message or storage, as this mode takes them (see {@link asSession}). */
  parse(value: unknown): Session | null {
    return asSession(value, this.#cookie);
  }

  async #stored(): Promise<Session | null> {
    const raw = await this.#storage.get(this.#key);
    if (!raw) return null;
    try {
      return this.parse(JSON.parse(raw));
    } catch {
      return null;
    }
  }

  get current(): Session | null {
    return this.#current;
  }

  /** The version of a new login: sessions are ordered by login time, the rotations of one session by count. */
  loginVersion(): number {
    return Math.max(Date.now(), (this.#current?.v ?? 0) + 1, this.#endedV + 1);
  }

  /** Makes `s` the session if it is newer than ours and not ended. (Also after close(): a refresh in flight must still store the rotated token.) */
  accept(s: Session): boolean {
    if (s.v <= this.#endedV || !newer(s, this.#current)) return false;
    this.#current = s;
    this.#inStorage = false;
    this.#hooks.accepted(s);
    return true;
  }

  /** Ends the session here (not in storage); returns it. */
  drop(): Session | null {
    const s = this.#current;
    if (s) this.#endedV = Math.max(this.#endedV, s.v);
    this.#current = null;
    this.#inStorage = false;
    this.#hooks.dropped();
    return s;
  }

  /** Another tab ended the sessions up to version `v`: is ours one of them? */
  endedElsewhere(v: number): boolean {
    this.#endedV = Math.max(this.#endedV, v);
    return this.#current !== null && this.#current.v <= v;
  }

  /** Adopts the stored session, if any. */
  async load(): Promise<void> {
    try {
      const stored = await this.#stored();
      if (stored && this.accept(stored)) this.#inStorage = true;
    } catch {
      // unreadable storage: start signed out
    }
  }

  /** Re-reads storage, adopting a newer session from it; notices a logout by another tab. */
  async reload(): Promise<Session | null> {
    let stored: Session | null;
    try {
      stored = await this.#stored();
    } catch {
      return this.#current;
    }
    if (stored) {
      const had = this.#current !== null;
      if (this.accept(stored)) {
        this.#inStorage = true;
        this.#hooks.changed(had ? "refresh" : "login");
      } else if (credentialOf(stored) === credentialOf(this.#current)) {
        this.#inStorage = true;
      }
    } else if (this.#current && this.#inStorage) {
      // It was stored and is gone: another tab signed out.
      this.drop();
      this.#hooks.changed("logout");
    }
    return this.#current;
  }

  /** Stores `s` unless storage holds a newer session. */
  async persist(s: Session): Promise<void> {
    try {
      const stored = await this.#stored();
      const write = !stored || newer(s, stored);
      if (write) await this.#storage.set(this.#key, JSON.stringify(s));
      if (this.#current === s && (write || credentialOf(stored) === credentialOf(s))) this.#inStorage = true;
    } catch {
      // full or blocked storage: the session lives on in memory and in the other tabs
    }
  }

  /** Removes the stored session if it is version `v` or older. */
  async clearStored(v: number): Promise<void> {
    try {
      const stored = await this.#stored();
      if (stored && stored.v <= v) await this.#storage.remove(this.#key);
    } catch {
      // nothing more to do
    }
  }
}
