// How the tabs of an origin coordinate: a BroadcastChannel carries sessions and their end, the
// Web Lock "<channel>:refresh" lets one tab refresh at a time, and a shared Web Lock
// "<channel>:gen:<v>" held per tab says which session version some tab already has. Without
// Web Locks (older browsers; insecure origins) a lease in localStorage takes the refresh
// lock's place and a localStorage entry the generation locks'.

/** What tabs tell each other. `session` is unchecked here: the client checks it as its mode takes sessions. */
export type Message =
  | { type: "session"; session: unknown; kind: "login" | "refresh" | "sync" }
  | { type: "end"; v: number; reason: "logout" | "authfailure"; status?: number; detail?: string; revoked?: boolean }
  | { type: "sync" };

const optional = (value: unknown, type: string) => value === undefined || typeof value === type;

// Versions are login times in ms plus one per rotation: one further ahead of the clock than
// this many rotations is forged, and would outrank (or end) every real session.
const MAX_ROTATIONS = 1e7;

/** Could `v` be a session's version? */
export const plausibleVersion = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0 && (v as number) <= Date.now() + MAX_ROTATIONS;

/** A message of another tab, or `null` when `data` is not one (any script of the origin can post on the channel). */
export function asMessage(data: unknown): Message | null {
  if (data === null || typeof data !== "object") return null;
  const m = data as Record<string, unknown>;
  if (m.type === "sync") return { type: "sync" };
  if (m.type === "session" && (m.kind === "login" || m.kind === "refresh" || m.kind === "sync")) return m as Message;
  if (
    m.type === "end" &&
    plausibleVersion(m.v) &&
    (m.reason === "logout" || m.reason === "authfailure") &&
    optional(m.status, "number") &&
    optional(m.detail, "string") &&
    optional(m.revoked, "boolean")
  ) {
    return m as Message;
  }
  return null;
}

// Where neither Web Locks nor localStorage exist (Node, workers): in-process mutexes, and the
// newest session version per channel (what the "<channel>:gen:<v>" locks tell otherwise).
const localLocks = new Map<string, Promise<void>>();
const localGenerations = new Map<string, number>();

const LEASE_MS = 10_000; // a lease left by a tab that died ends after this
const RENEW_MS = 2_000; // the holder extends its lease this often
const SETTLE_MS = 120; // localStorage reaches other tabs' processes asynchronously: wait before trusting a write
const POLL_MS = 40; // how often a waiting tab looks at the lease
const HANDOFF_MS = 2_000; // a version announced without Web Locks counts this long (its pair is on its way)

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function lockManager(): LockManager | undefined {
  const nav = (globalThis as { navigator?: Navigator }).navigator;
  return nav?.locks && typeof nav.locks.request === "function" ? nav.locks : undefined;
}

/** The origin's localStorage, where it can be used (for the lease); `null` elsewhere. */
function sharedStorage(): Storage | null {
  try {
    const area = (globalThis as { localStorage?: Storage }).localStorage;
    area?.getItem("edgejwt");
    return area ?? null;
  } catch {
    return null;
  }
}

/** The BroadcastChannel `name`, where the runtime has one. */
export class TabChannel {
  #channel: BroadcastChannel | null = null;

  constructor(name: string, onMessage: (message: Message) => void) {
    if (typeof BroadcastChannel !== "function") return;
    try {
      const channel = new BroadcastChannel(name);
      channel.onmessage = (event: MessageEvent) => {
        const message = asMessage(event.data);
        if (message) onMessage(message);
      };
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

/** Runs `fn` after the ones queued before it in this JS realm. */
function inTurn<T>(name: string, fn: () => Promise<T>): Promise<T> {
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

/**
 * Runs `fn` holding the exclusive refresh lock of the origin: the Web Lock, else a lease in
 * localStorage, else (no shared storage either) a mutex of this JS realm.
 */
export async function withRefreshLock<T>(channelName: string, fn: () => Promise<T>): Promise<T> {
  const name = `${channelName}:refresh`;
  const locks = lockManager();
  if (locks) return locks.request(name, { mode: "exclusive" }, () => fn()) as Promise<T>;
  const area = sharedStorage();
  return inTurn(name, area ? () => withLease(area, `${name}:lease`, fn) : fn);
}

type Lease = { owner: string; until: number };

function readLease(area: Storage, key: string): Lease | null {
  try {
    const lease = JSON.parse(area.getItem(key) ?? "null") as Partial<Lease> | null;
    return lease && typeof lease.owner === "string" && typeof lease.until === "number" ? (lease as Lease) : null;
  } catch {
    return null;
  }
}

/**
 * The lease: a tab writes `{owner, until}` where none is held (or the held one has run out),
 * waits SETTLE_MS, and holds the lease if its write is still there, since tabs that wrote at
 * the same time all see the one write localStorage kept. The holder renews it until `fn` is
 * done, then removes it; a tab that dies leaves it for at most LEASE_MS.
 */
async function withLease<T>(area: Storage, key: string, fn: () => Promise<T>): Promise<T> {
  const owner = `${Date.now().toString(36)}.${Math.random().toString(36).slice(2)}`;
  const mine = () => readLease(area, key)?.owner === owner;
  const write = () => area.setItem(key, JSON.stringify({ owner, until: Date.now() + LEASE_MS }));
  for (let held = false; !held; ) {
    const lease = readLease(area, key);
    if (!lease || lease.until <= Date.now()) {
      try {
        write();
      } catch {
        return fn(); // storage refuses writes: only the issuer's reuse interval is left
      }
      await sleep(SETTLE_MS);
      held = mine();
    }
    if (!held) await sleep(POLL_MS * (1 + Math.random()));
  }
  const renew = setInterval(() => mine() && write(), RENEW_MS);
  const release = () => {
    clearInterval(renew);
    globalThis.removeEventListener?.("pagehide", release);
    if (mine()) area.removeItem(key);
  };
  globalThis.addEventListener?.("pagehide", release);
  try {
    return await fn();
  } finally {
    release();
  }
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
    if (!locks) {
      this.#announce(v);
      return Promise.resolve();
    }
    if (this.#closed) return Promise.resolve();
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

  /** Without Web Locks: the newest version, with when it was made, in localStorage (and this realm). */
  #announce(v: number): void {
    localGenerations.set(this.#channelName, Math.max(v, localGenerations.get(this.#channelName) ?? 0));
    const area = sharedStorage();
    try {
      if (area && v > this.#announced(area)) area.setItem(`${this.#channelName}:gen`, JSON.stringify({ v, at: Date.now() }));
    } catch {
      // full storage: the realm's record is left
    }
  }

  /** The version announced in localStorage within HANDOFF_MS, else 0. */
  #announced(area: Storage): number {
    try {
      const { v, at } = JSON.parse(area.getItem(`${this.#channelName}:gen`) ?? "{}") as { v?: unknown; at?: unknown };
      return typeof v === "number" && typeof at === "number" && Date.now() - at < HANDOFF_MS ? v : 0;
    } catch {
      return 0;
    }
  }

  /** The newest session version some tab of the origin holds, from the Web Locks it holds. */
  async newest(): Promise<number> {
    const locks = lockManager();
    if (!locks) {
      const area = sharedStorage();
      return Math.max(localGenerations.get(this.#channelName) ?? 0, area ? this.#announced(area) : 0);
    }
    if (typeof locks.query !== "function") return localGenerations.get(this.#channelName) ?? 0;
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
