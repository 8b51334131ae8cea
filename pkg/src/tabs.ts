// How the tabs of an origin coordinate: a BroadcastChannel carries sessions and their end, the
// Web Lock "<channel>:refresh" lets one tab refresh at a time, and a shared Web Lock
// "<channel>:gen:<v>" held per tab says which session version some tab already has.
import type { Session } from "./session.js";

/** What tabs tell each other. */
export type Message =
  | { type: "session"; session: Session; kind: "login" | "refresh" | "sync" }
  | { type: "end"; v: number; reason: "logout" | "authfailure"; status?: number; detail?: string; revoked?: boolean }
  | { type: "sync" };

// Where the Web Locks API is missing (Node, insecure origins): in-process mutexes, and the
// newest session version per channel (what the "<channel>:gen:<v>" locks tell otherwise).
const localLocks = new Map<string, Promise<void>>();
const localGenerations = new Map<string, number>();

function lockManager(): LockManager | undefined {
  const nav = (globalThis as { navigator?: Navigator }).navigator;
  return nav?.locks && typeof nav.locks.request === "function" ? nav.locks : undefined;
}

/** The BroadcastChannel `name`, where the runtime has one. */
export class TabChannel {
  #channel: BroadcastChannel | null = null;

  constructor(name: string, onMessage: (data: unknown) => void) {
    if (typeof BroadcastChannel !== "function") return;
    try {
      const channel = new BroadcastChannel(name);
      channel.onmessage = (event: MessageEvent) => onMessage(event.data);
      this.#channel = channel;
    } catch {
      this.#channel = null;
    }
  }

  /** Whether there is a channel (other tabs can answer). */
  get open(): boolean {
    return this.#channel !== null;
  }

  post(message: Message): void {
    try {
      this.#channel?.postMessage(message);
    } catch {
      // closed channel
    }
  }

  close(): void {
    this.#channel?.close();
    this.#channel = null;
  }
}

/** Runs `fn` holding the exclusive refresh lock of the origin (or of this JS realm without Web Locks). */
export async function withRefreshLock<T>(channelName: string, fn: () => Promise<T>): Promise<T> {
  const name = `${channelName}:refresh`;
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

/** The shared lock "<channel>:gen:<v>" this tab holds while it uses session version `v`. */
export class GenerationLock {
  readonly #channelName: string;
  #held: { v: number; release: () => void; granted: Promise<void> } | null = null;
  #closed = false;

  constructor(channelName: string) {
    this.#channelName = channelName;
  }

  /** Holds the lock of version `v` (releasing the one held); resolves once granted. */
  hold(v: number): Promise<void> {
    const locks = lockManager();
    if (!locks) localGenerations.set(this.#channelName, Math.max(v, localGenerations.get(this.#channelName) ?? 0));
    if (!locks || this.#closed) return Promise.resolve();
    if (this.#held?.v === v) return this.#held.granted;
    this.release();
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
    this.#held = { v, release, granted };
    return granted;
  }

  release(): void {
    this.#held?.release();
    this.#held = null;
  }

  /** Releases the lock and holds no other. */
  close(): void {
    this.#closed = true;
    this.release();
  }

  /** The newest session version some tab of the origin holds, from the Web Locks it holds. */
  async newest(): Promise<number> {
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
}
