// Token storage adapters for the AuthClient (client.ts). Plain TypeScript, no dependencies.

/**
 * Where an {@link AuthClient} keeps its tokens. Any object with these three methods works,
 * synchronous or asynchronous (IndexedDB, a native bridge, an encrypted store, ...).
 * The client stores one JSON string under one key, so a value is always a complete pair.
 *
 * @example
 * const storage: TokenStorage = {
 *   get: (key) => myStore.read(key),
 *   set: (key, value) => myStore.write(key, value),
 *   remove: (key) => myStore.delete(key),
 * };
 * const client = new AuthClient({ storage });
 */
export interface TokenStorage {
  get(key: string): string | null | Promise<string | null>;
  set(key: string, value: string): void | Promise<void>;
  remove(key: string): void | Promise<void>;
}

/**
 * Keeps tokens in this page's memory only: nothing survives a reload, and nothing is
 * readable from `localStorage`. Tabs of one origin still share the session through the
 * client's BroadcastChannel. The default storage.
 *
 * @example
 * const client = new AuthClient({ storage: new MemoryStorage() }); // same as storage: "memory"
 */
export class MemoryStorage implements TokenStorage {
  readonly #values = new Map<string, string>();
  get(key: string): string | null {
    return this.#values.get(key) ?? null;
  }
  set(key: string, value: string): void {
    this.#values.set(key, value);
  }
  remove(key: string): void {
    this.#values.delete(key);
  }
}

/**
 * Adapts a Web Storage area (`localStorage`, `sessionStorage`) to {@link TokenStorage}.
 * `localStorage` is shared by the tabs of an origin and survives reloads; `sessionStorage`
 * is per tab (the client still shares the session with other tabs over BroadcastChannel).
 *
 * @example
 * const client = new AuthClient({ storage: new WebStorage(window.localStorage) }); // same as storage: "localStorage"
 */
export class WebStorage implements TokenStorage {
  readonly #area: Storage;
  constructor(area: Storage) {
    this.#area = area;
  }
  get(key: string): string | null {
    return this.#area.getItem(key);
  }
  set(key: string, value: string): void {
    this.#area.setItem(key, value);
  }
  remove(key: string): void {
    this.#area.removeItem(key);
  }
}

/** The names accepted by `AuthClientOptions.storage`. */
export type StorageName = "memory" | "localStorage" | "sessionStorage";

/**
 * Turns the `storage` option into a {@link TokenStorage}. `"localStorage"` and
 * `"sessionStorage"` fall back to memory where the area does not exist or throws on access
 * (Node, workers, storage blocked by the browser's privacy settings).
 *
 * @example
 * const storage = resolveStorage("localStorage"); // a WebStorage in browsers, a MemoryStorage in Node
 */
export function resolveStorage(option: StorageName | TokenStorage | undefined): TokenStorage {
  if (option === undefined || option === "memory") return new MemoryStorage();
  if (typeof option !== "string") return option;
  if (option !== "localStorage" && option !== "sessionStorage") {
    throw new TypeError(`edgejwt: unknown storage ${JSON.stringify(option)}`);
  }
  try {
    const area = (globalThis as unknown as Record<string, Storage | undefined>)[option];
    if (area) {
      // Accessing or writing may throw (SecurityError, quota 0 in some private modes).
      const probe = "__edgejwt_probe__";
      area.setItem(probe, probe);
      area.removeItem(probe);
      return new WebStorage(area);
    }
  } catch {
    // fall through to memory
  }
  return new MemoryStorage();
}
