import type { State } from '../handler.js';

/** A point in one state's history: which history (`epoch`) and how far along it (`version`). */
export interface Position {
  readonly epoch: string;
  readonly version: number;
}

/** A topic's state as stored. */
export interface StoredState extends Position {
  readonly state: State;
}

/** One committed update: the new state, where it sits in the history, and the patch that led there. */
export interface Update extends StoredState {
  /**
   * The position this update follows, checked against the stored one (fencing: a writer
   * that is behind cannot overwrite a newer state). `null` starts a new history, as for a
   * state fresh from `init`: whatever the topic held is replaced and its patch log cleared.
   */
  readonly follows: Position | null;
  /** The RFC 6902 patch from `follows` to `state`, as JSON text. Ignored when `follows` is `null`. */
  readonly patch: string;
}

/** A logged patch: the JSON text of its operations and the version it leads to. */
export interface StoredPatch {
  readonly version: number;
  readonly patch: string;
}

/**
 * Where topic states outlive the process. Every call for one topic comes from that topic's
 * queue, one at a time; implementations may serve many topics at once.
 */
export interface Storage {
  /** The topic's stored state, or `undefined` when it has none. */
  load(topic: string): Promise<StoredState | undefined>;
  /** Stores an update durably; rejects with {@link StorageConflictError}, storing nothing, when `follows` is not the stored position. */
  append(topic: string, update: Update): Promise<void>;
  /**
   * The patches that lead from `from` to the stored state, oldest first (empty when `from` is
   * current), or `undefined` when continuity cannot be proven: another epoch, or a version the
   * patch log no longer reaches back to.
   */
  patchesAfter(topic: string, from: Position): Promise<StoredPatch[] | undefined>;
  /**
   * The server holds the topic's state in memory no longer (it unloaded it), until its next
   * `load`. Optional: a storage that keeps states in this process may then forget the topic
   * when it needs room; one that keeps them elsewhere has nothing to do.
   */
  release?(topic: string): void;
  /** Forgets the topic: state and patch log. */
  drop(topic: string): Promise<void>;
  /** Finishes pending writes and releases the storage. */
  close(): Promise<void>;
}

/** An append whose `follows` is not the stored position: someone else wrote the topic, or it was dropped. */
export class StorageConflictError extends Error {
  constructor(topic: string, expected: Position | null, found: Position | undefined) {
    const where = (position: Position | null | undefined) =>
      position ? `epoch ${position.epoch} version ${position.version}` : 'nothing';
    super(`storage conflict on "${topic}": the update follows ${where(expected)} but the stored state is at ${where(found)}`);
    this.name = 'StorageConflictError';
  }
}

/** How many patches a topic's log keeps by default: the longest absence a client can resume from with patches. */
export const DEFAULT_PATCH_WINDOW = 128;

export function checkPatchWindow(patchWindow: number): number {
  if (!Number.isInteger(patchWindow) || patchWindow < 1) throw new Error(`invalid patchWindow ${patchWindow}: expected a positive integer`);
  return patchWindow;
}

export const samePosition = (a: Position | null | undefined, b: Position | null | undefined): boolean =>
  a === b || (!!a && !!b && a.epoch === b.epoch && a.version === b.version);
