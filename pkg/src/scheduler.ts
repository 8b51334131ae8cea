// When the client refreshes on its own: shortly before the access token expires, with backoff
// after network errors, and again when a throttled background tab is shown or back online.
import { AuthError } from "./auth-error.js";
import { numberClaim, type Session } from "./session.js";

const MAX_DELAY_MS = 2_147_483_647; // setTimeout's limit
const RETRY_MS = [1_000, 2_000, 5_000, 10_000, 30_000]; // timer retries after network errors
const MIN_TIMER_INTERVAL_MS = 1_000; // never refresh from the timer more often than this

/** When (ms, our clock) the access token of `s` is due for refresh, `leeway` s early; null without `exp`. */
export function refreshDueAt(s: Session, leeway: number): number | null {
  const exp = numberClaim(s.access, "exp");
  if (exp === undefined) return null;
  const iat = numberClaim(s.access, "iat");
  // A leeway longer than the token lives would refresh in a loop: cap it at half the lifetime.
  const lead = iat !== undefined && exp > iat ? Math.min(leeway, (exp - iat) / 2) : leeway;
  return (exp - s.skew - lead) * 1000;
}

/** One timer that calls `refresh` when `dueAt()` comes (`null`: nothing to refresh). */
export class RefreshTimer {
  readonly #dueAt: () => number | null;
  readonly #refresh: () => Promise<void>;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #failures = 0;
  #lastRun = 0;
  #closed = false;
  #unwake: (() => void) | null = null;

  constructor(dueAt: () => number | null, refresh: () => Promise<void>) {
    this.#dueAt = dueAt;
    this.#refresh = refresh;
    // Timers are throttled in background tabs: catch up when the tab is shown or back online.
    if (typeof addEventListener === "function" && typeof document !== "undefined") {
      const wake = () => {
        if (document.visibilityState !== "hidden") this.schedule();
      };
      document.addEventListener("visibilitychange", wake);
      addEventListener("online", wake);
      this.#unwake = () => {
        document.removeEventListener("visibilitychange", wake);
        removeEventListener("online", wake);
      };
    }
  }

  /** Sets the timer for the current due time (replacing any set). */
  schedule(): void {
    this.cancel();
    if (this.#closed) return;
    const due = this.#dueAt();
    if (due === null) return;
    const now = Date.now();
    let delay = Math.max(due - now, this.#lastRun + MIN_TIMER_INTERVAL_MS - now, 0);
    if (this.#failures > 0) delay = Math.max(delay, RETRY_MS[Math.min(this.#failures, RETRY_MS.length) - 1] ?? 0);
    this.#timer = setTimeout(() => this.#fire(), Math.min(delay, MAX_DELAY_MS));
  }

  /** A new session: forget past failures, and schedule. */
  reset(): void {
    this.#failures = 0;
    this.schedule();
  }

  cancel(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Stops for good: no timer, no wake-ups. */
  close(): void {
    this.#closed = true;
    this.cancel();
    this.#unwake?.();
    this.#unwake = null;
  }

  #fire(): void {
    this.#timer = undefined;
    if (this.#closed) return;
    const due = this.#dueAt();
    if (due === null) return;
    if (due > Date.now() + 25 && this.#failures === 0) return this.schedule(); // long delay, capped
    this.#lastRun = Date.now();
    this.#refresh().then(
      () => undefined,
      (error: unknown) => {
        if (error instanceof AuthError && error.code === "network_error" && this.#dueAt() !== null) {
          this.#failures++;
          this.schedule();
        }
      },
    );
  }
}
