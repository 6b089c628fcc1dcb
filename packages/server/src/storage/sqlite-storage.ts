import { DatabaseSync, type StatementSync } from 'node:sqlite';
import type { State } from '../handler.js';
import { applyPatchInPlace } from '../state/apply-patch.js';
import type { PatchOperation } from '../state/diff.js';
import type { JsonValue } from '../state/json.js';
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

export interface SqliteStorageOptions {
  /**
   * `true` syncs every commit to disk (`synchronous=FULL`), so acknowledged events survive a
   * power loss; commits that arrive together share one sync. The default (`synchronous=NORMAL`
   * in WAL mode) writes every commit to the operating system before it is acknowledged: it
   * survives the server process being killed, not the machine losing power.
   */
  fsync?: boolean;
  /** How many patches each topic keeps, at least, for resuming clients. Default 128. */
  patchWindow?: number;
}

interface PendingWrite {
  topic: string;
  update: Update;
  resolve(): void;
  reject(error: unknown): void;
}

interface StoredRow {
  epoch: string;
  version: number;
  seq: number;
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS livestate_topics (
    topic TEXT PRIMARY KEY,
    epoch TEXT NOT NULL,
    version INTEGER NOT NULL,
    seq INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS livestate_snapshots (
    topic TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    state TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS livestate_patches (
    topic TEXT NOT NULL,
    seq INTEGER NOT NULL,
    from_version INTEGER NOT NULL,
    version INTEGER NOT NULL,
    patch TEXT NOT NULL,
    PRIMARY KEY (topic, seq)
  ) WITHOUT ROWID;
`;
/**
 * Topic states in one SQLite file, through `node:sqlite`, in WAL mode. A commit writes its
 * patch and the topic's position, not the whole state: every `patchWindow` commits the state
 * is written whole (a snapshot) and the patches older than the window are trimmed, and a load
 * replays the patches after the snapshot. So a commit costs the size of its change, whatever
 * the size of the state.
 * Each write is committed at once; with `fsync`, writes queued in the same turn of the event
 * loop are committed in one transaction, so they share one sync.
 */
export class SqliteStorage implements Storage {
  private readonly db: DatabaseSync;
  private readonly patchWindow: number;
  private pending: PendingWrite[] = [];
  private readonly statements: Record<
    | 'begin'
    | 'commit'
    | 'rollback'
    | 'position'
    | 'snapshot'
    | 'insertTopic'
    | 'updateTopic'
    | 'writeSnapshot'
    | 'insertPatch'
    | 'trimPatches'
    | 'clearPatches'
    | 'dropTopic'
    | 'dropSnapshot'
    | 'continuation'
    | 'patchesFrom',
    StatementSync
  >;

  private readonly fsync: boolean;

  constructor(readonly path: string, { fsync = false, patchWindow = DEFAULT_PATCH_WINDOW }: SqliteStorageOptions = {}) {
    this.fsync = fsync;
    this.patchWindow = checkPatchWindow(patchWindow);
    this.db = new DatabaseSync(path);
    this.db.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = ${fsync ? 'FULL' : 'NORMAL'}; PRAGMA busy_timeout = 5000;`);
    this.db.exec(SCHEMA);
    const prepare = (sql: string) => this.db.prepare(sql);
    this.statements = {
      begin: prepare('BEGIN IMMEDIATE'),
      commit: prepare('COMMIT'),
      rollback: prepare('ROLLBACK'),
      position: prepare('SELECT epoch, version, seq FROM livestate_topics WHERE topic = ?'),
      snapshot: prepare('SELECT seq, state FROM livestate_snapshots WHERE topic = ?'),
      insertTopic: prepare('INSERT OR REPLACE INTO livestate_topics (topic, epoch, version, seq) VALUES (?, ?, ?, 0)'),
      updateTopic: prepare('UPDATE livestate_topics SET version = ?, seq = ? WHERE topic = ?'),
      writeSnapshot: prepare('INSERT OR REPLACE INTO livestate_snapshots (topic, seq, state) VALUES (?, ?, ?)'),
      insertPatch: prepare('INSERT INTO livestate_patches (topic, seq, from_version, version, patch) VALUES (?, ?, ?, ?, ?)'),
      trimPatches: prepare('DELETE FROM livestate_patches WHERE topic = ? AND seq <= ?'),
      clearPatches: prepare('DELETE FROM livestate_patches WHERE topic = ?'),
      dropTopic: prepare('DELETE FROM livestate_topics WHERE topic = ?'),
      dropSnapshot: prepare('DELETE FROM livestate_snapshots WHERE topic = ?'),
      continuation: prepare('SELECT seq FROM livestate_patches WHERE topic = ? AND from_version = ? ORDER BY seq DESC LIMIT 1'),
      patchesFrom: prepare('SELECT version, patch FROM livestate_patches WHERE topic = ? AND seq >= ? ORDER BY seq'),
    };
  }

  async load(topic: string): Promise<StoredState | undefined> {
    const position = this.position(topic);
    const snapshot = this.statements.snapshot.get(topic) as { seq: number; state: string } | undefined;
    if (!position || !snapshot) return undefined;
    let state = JSON.parse(snapshot.state) as JsonValue;
    if (position.seq > snapshot.seq) {
      for (const { patch } of this.statements.patchesFrom.all(topic, snapshot.seq + 1) as unknown as StoredPatch[]) {
        state = applyPatchInPlace(state, JSON.parse(patch) as PatchOperation[]);
      }
    }
    return { epoch: position.epoch, version: position.version, state: state as State };
  }

  append(topic: string, update: Update): Promise<void> {
    if (!this.db.isOpen) return Promise.reject(new Error('the storage is closed'));
    return new Promise((resolve, reject) => {
      this.pending.push({ topic, update, resolve, reject });
      // Without a sync, a commit is cheap: do it now. A sync is not, so commits that arrive
      // in the same turn of the event loop share one.
      if (!this.fsync) this.flush();
      else if (this.pending.length === 1) setImmediate(() => this.flush());
    });
  }

  async patchesAfter(topic: string, from: Position): Promise<StoredPatch[] | undefined> {
    const stored = this.position(topic);
    if (!stored || stored.epoch !== from.epoch) return undefined;
    if (stored.version === from.version) return [];
    // The latest match: versions wrap, and only the newest run of them leads to the stored state.
    const start = this.statements.continuation.get(topic, from.version) as { seq: number } | undefined;
    if (!start) return undefined;
    const rows = this.statements.patchesFrom.all(topic, start.seq) as unknown as StoredPatch[];
    return rows.map(({ version, patch }) => ({ version, patch }));
  }

  async drop(topic: string): Promise<void> {
    this.transaction(() => {
      this.statements.dropTopic.run(topic);
      this.statements.dropSnapshot.run(topic);
      this.statements.clearPatches.run(topic);
    });
  }

  async close(): Promise<void> {
    if (!this.db.isOpen) return;
    this.flush();
    this.db.close();
  }

  /** Commits every queued write in one transaction; a write whose check fails is refused alone. */
  private flush(): void {
    const writes = this.pending;
    this.pending = [];
    if (writes.length === 0) return;
    const outcomes: unknown[] = [];
    try {
      this.transaction(() => {
        for (const write of writes) outcomes.push(this.write(write.topic, write.update));
      });
    } catch (error) {
      for (const write of writes) write.reject(error);
      return;
    }
    writes.forEach((write, index) => (outcomes[index] ? write.reject(outcomes[index]) : write.resolve()));
  }

  /** Applies one update inside the open transaction; returns the conflict instead of throwing it, so the others commit. */
  private write(topic: string, update: Update): StorageConflictError | undefined {
    const stored = this.position(topic);
    if (!samePosition(update.follows, stored ?? null)) return new StorageConflictError(topic, update.follows, stored);
    if (!stored || !update.follows) {
      this.statements.insertTopic.run(topic, update.epoch, update.version);
      this.statements.writeSnapshot.run(topic, 0, JSON.stringify(update.state));
      this.statements.clearPatches.run(topic);
      return undefined;
    }
    const seq = stored.seq + 1;
    this.statements.updateTopic.run(update.version, seq, topic);
    this.statements.insertPatch.run(topic, seq, update.follows.version, update.version, update.patch);
    // Once per window: the whole state, and the patches the window no longer needs. The log
    // keeps between one and two windows, always every patch after the snapshot.
    if (seq % this.patchWindow === 0) {
      this.statements.writeSnapshot.run(topic, seq, JSON.stringify(update.state));
      this.statements.trimPatches.run(topic, seq - this.patchWindow);
    }
    return undefined;
  }

  private position(topic: string): StoredRow | undefined {
    return this.statements.position.get(topic) as StoredRow | undefined;
  }

  private transaction(work: () => void): void {
    this.statements.begin.run();
    try {
      work();
      this.statements.commit.run();
    } catch (error) {
      if (this.db.isTransaction) this.statements.rollback.run();
      throw error;
    }
  }
}
