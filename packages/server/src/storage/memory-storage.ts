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
}

/**
 * Storage that keeps everything in this process: nothing survives a restart. For tests, and
 * for applications that want no storage (the same code path, without the disk).
 */
export class MemoryStorage implements Storage {
  private readonly entries = new Map<string, Entry>();
  private readonly patchWindow: number;

  constructor({ patchWindow = DEFAULT_PATCH_WINDOW }: MemoryStorageOptions = {}) {
    this.patchWindow = checkPatchWindow(patchWindow);
  }

  async load(topic: string): Promise<StoredState | undefined> {
    return this.entries.get(topic)?.stored;
  }

  async append(topic: string, update: Update): Promise<void> {
    const entry = this.entries.get(topic);
    if (!samePosition(update.follows, entry?.stored ?? null)) {
      throw new StorageConflictError(topic, update.follows, entry?.stored);
    }
    const stored: StoredState = { state: update.state, version: update.version, epoch: update.epoch };
    if (!entry || !update.follows) {
      this.entries.set(topic, { stored, log: [] });
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

  async drop(topic: string): Promise<void> {
    this.entries.delete(topic);
  }

  async close(): Promise<void> {
    this.entries.clear();
  }
}
