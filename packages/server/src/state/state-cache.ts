import type { StateStore } from './state-store.js';

/** A refusal because a limit is reached; its message is the reason the client gets. */
export class LimitError extends Error {
  override name = 'LimitError';
}

interface Entry {
  readonly store: StateStore;
  unloadTimer?: NodeJS.Timeout;
}

/**
 * The states held in memory, least recently used first, at most `maxStates` of them.
 * A state with no members is unloaded after a delay, or sooner when room is needed;
 * a state with members is never unloaded. Everything a store commits is already
 * stored, so unloading only forgets (the storage is told: a `MemoryStorage` may then
 * forget it too); a store that comes back for the same key waits for the old one's
 * last work before it loads.
 */
export class StateCache {
  private readonly entries = new Map<string, Entry>();
  private readonly unloading = new Map<string, Promise<void>>();

  constructor(readonly maxStates: number) {}

  get size(): number {
    return this.entries.size;
  }

  /** The store held under `key`, now the most recently used and no longer due to unload. */
  take(key: string): StateStore | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    clearTimeout(entry.unloadTimer);
    entry.unloadTimer = undefined;
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.store;
  }

  /**
   * Holds the store `create` makes, passing it the work it must wait for (an unloading
   * store of the same key). Makes room first; throws a {@link LimitError} when every held
   * state has members.
   */
  add(key: string, create: (after: Promise<void> | undefined) => StateStore): StateStore {
    if (this.entries.size >= this.maxStates && !this.unloadLeastRecentlyUsed()) {
      throw new LimitError(`too many states in memory: at most ${this.maxStates}, all of them in use`);
    }
    const store = create(this.unloading.get(key));
    this.entries.set(key, { store });
    return store;
  }

  /** Unloads the store held under `key` after `delayMs`, unless it is taken before. */
  unloadLater(key: string, store: StateStore, delayMs: number): void {
    const entry = this.entries.get(key);
    if (entry?.store !== store) return;
    clearTimeout(entry.unloadTimer);
    entry.unloadTimer = setTimeout(() => this.unload(key), delayMs).unref();
  }

  /** Stops every unload timer (the server is closing). */
  clear(): void {
    for (const entry of this.entries.values()) clearTimeout(entry.unloadTimer);
    this.entries.clear();
  }

  private unloadLeastRecentlyUsed(): boolean {
    for (const [key, entry] of this.entries) {
      if (entry.store.memberCount === 0) {
        this.unload(key);
        return true;
      }
    }
    return false;
  }

  private unload(key: string): void {
    const entry = this.entries.get(key);
    if (!entry || entry.store.memberCount > 0) return;
    clearTimeout(entry.unloadTimer);
    this.entries.delete(key);
    const unloaded = entry.store.unload();
    this.unloading.set(key, unloaded);
    void unloaded.then(() => {
      if (this.unloading.get(key) === unloaded) this.unloading.delete(key);
    });
  }
}
