import type { RedisStorage } from '../storage/redis-storage.js';
import type { Position, Storage, StoredPatch, StoredState, Update } from '../storage/storage.js';

/**
 * Where a cluster node keeps one connection-scoped state: in Redis, under its epoch (an
 * unguessable id only its client knows), so the client can resume it on any node. A fresh
 * state gets its key when it is first stored; a resumed one is found by the epoch the client
 * presents. While the channel is away its keys expire after the grace period.
 */
export class ConnectionStorage implements Storage {
  private key: string | undefined;

  constructor(
    private readonly storage: RedisStorage,
    private readonly topic: string,
    resume: Position | undefined,
  ) {
    this.key = resume && this.keyOf(resume.epoch);
  }

  async load(): Promise<StoredState | undefined> {
    if (this.key === undefined) return undefined;
    await this.storage.persist(this.key);
    return this.storage.load(this.key);
  }

  async append(_topic: string, update: Update): Promise<void> {
    if (update.follows === null) this.key = this.keyOf(update.epoch);
    await this.storage.append(this.key!, update);
  }

  async patchesAfter(_topic: string, from: Position): Promise<StoredPatch[] | undefined> {
    return this.key === undefined ? undefined : this.storage.patchesAfter(this.key, from);
  }

  /** The channel went away: the state stays for `ms`, for its client to resume it on any node. */
  async expireAfter(ms: number): Promise<void> {
    if (this.key !== undefined) await this.storage.expire(this.key, ms);
  }

  async drop(): Promise<void> {
    if (this.key !== undefined) await this.storage.drop(this.key);
  }

  /** The Redis storage is the node's, and outlives this state. */
  async close(): Promise<void> {}

  private keyOf(epoch: string): string {
    return `connection:${epoch}:${this.topic}`;
  }
}
