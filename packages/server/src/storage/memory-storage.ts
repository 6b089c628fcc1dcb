import { checkOptionalPositiveInteger } from '../option-checks.js';
import {
  checkPatchWindow,
  DEFAULT_PATCH_WINDOW,
  samePosition,
  StorageConflictError,
  type Position,
  type Storage,
  type StoredPatch,
  type StoredState,
  type Update,
} from './storage.js';

interface LoggedPatch extends StoredPatch {
  /** The version the patch applies to. */
  readonly from: number;
}

interface Entry {
  stored: StoredState;
  log: LoggedPatch[];
}

export interface MemoryStorageOptions {
  /** How many patches each topic keeps for resuming clients. Default 128. */
  patchWindow?: number;
  /**
   * How many topics it keeps. Past it, the topic the server unloaded longest ago is forgotten
   * (its next join starts from `init`), so that clients joining ever new topics cannot grow
   * the process without bound. Topics whose states the server holds in memory are never
   * forgotten (`maxStates` bounds those). Default 10,000.
   */
  maxTopics?: number;
}

/**
 * Storage that keeps everything in this process: nothing survives a restart. For tests, and
 * for applications that want no storage (the same code path, without the disk). It keeps at
 * most `maxTopics` topics, forgetting the least recently used one the server has released.
 */
export class MemoryStorage implements Storage {
  private readonly entries = new Map<string, Entry>();
  /** Topics the server has released (unloaded), least recently used first: the ones that may be forgotten. */
  private readonly released = new Set<string>();
  private readonly patchWindow: number;
  private readonly maxTopics: number;

  constructor({ patchWindow = DEFAULT_PATCH_WINDOW, maxTopics = 10_000 }: MemoryStorageOptions = {}) {
    this.patchWindow = checkPatchWindow(patchWindow);
    checkOptionalPositiveInteger(maxTopics, 'maxTopics');
    this.maxTopics = maxTopics;
  }

  async load(topic: string): Promise<StoredState | undefined> {
    this.released.delete(topic);
    return this.entries.get(topic)?.stored;
  }

  async append(topic: string, update: Update): Promise<void> {
    const entry = this.entries.get(topic);
    if (!samePosition(update.follows, entry?.stored ?? null)) {
      throw new StorageConflictError(topic, update.follows, entry?.stored);
    }
    this.released.delete(topic);
    const stored: StoredState = { state: update.state, version: update.version, epoch: update.epoch };
    if (!entry || !update.follows) {
      this.entries.set(topic, { stored, log: [] });
      this.forgetOverLimit();
      return;
    }
    entry.stored = stored;
    entry.log.push({ from: update.follows.version, version: update.version, patch: update.patch });
    if (entry.log.length > this.patchWindow) entry.log.shift();
  }

  async patchesAfter(topic: string, from: Position): Promise<StoredPatch[] | undefined> {
    const entry = this.entries.get(topic);
    if (!entry || entry.stored.epoch !== from.epoch) return undefined;
    if (entry.stored.version === from.version) return [];
    // The latest match: versions wrap, and only the newest run of them leads to the stored state.
    for (let start = entry.log.length - 1; start >= 0; start--) {
      if (entry.log[start]!.from === from.version) return entry.log.slice(start).map(({ version, patch }) => ({ version, patch }));
    }
    return undefined;
  }

  release(topic: string): void {
    if (!this.entries.has(topic)) return;
    this.released.delete(topic);
    this.released.add(topic);
    this.forgetOverLimit();
  }

  async drop(topic: string): Promise<void> {
    this.entries.delete(topic);
    this.released.delete(topic);
  }

  async close(): Promise<void> {
    this.entries.clear();
    this.released.clear();
  }

  private forgetOverLimit(): void {
    for (const topic of this.released) {
      if (this.entries.size <= this.maxTopics) return;
      this.released.delete(topic);
      this.entries.delete(topic);
    }
  }
}
