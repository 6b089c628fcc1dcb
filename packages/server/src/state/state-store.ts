import { errorText, isInstance } from '../error-text.js';
import type { EventContext, LiveStateHandler, Reply, SocketInfo, State } from '../handler.js';
import { reportHandlerFailure } from '../handler-failure.js';
import type { Logger } from '../logger.js';
import type { Position, Storage, Update } from '../storage/storage.js';
import { encodeBroadcast, type Payload } from '../transport/serializer.js';
import { deepFreeze } from './deep-freeze.js';
import { newEpoch } from './epoch.js';
import { callHandler, eventChange, initialState } from './handler-result.js';
import { TaskQueue } from './task-queue.js';

/** A joined channel, as the store sees it: somewhere to push frames. */
export interface Member {
  readonly socket: SocketInfo;
  push(event: string, payload: unknown): void;
  /** Pushes a payload that is already JSON text, so a fan-out stringifies it once. */
  pushEncoded(event: string, payloadJson: string): void;
  /** Sends a broadcast frame ({@link encodeBroadcast}): the same bytes to every member of the topic. */
  sendBroadcast(frame: Buffer): void;
}

/** What became of a client event: the version of the update it committed, or why it failed. */
export type EventOutcome = { ok: true; version: number } | { ok: false; reason: string };

export interface StateStoreOptions {
  handler: LiveStateHandler;
  /** Where the state is written before anyone sees it. */
  storage: Storage;
  maxVersion: number;
  /** A handler call (`init`, an event) that has not settled by then fails with a timeout error. */
  handlerTimeoutMs: number;
  /** The largest state, as UTF-8 JSON, that `init` or an event may produce. */
  maxStateBytes: number;
  logger: Logger;
  /** Work to finish before this store's first operation: the last store of the same topic, unloading. */
  after?: Promise<void>;
  /** Called when the last member leaves. */
  onIdle?: (store: StateStore) => void;
}

/** Thrown for a write the storage refused, so its reason reaches the sender. */
class StorageError extends Error {}

/**
 * One LiveState state, its version and the channels that see it.
 *
 * Every operation (join, event, refresh) runs through one queue, so events are
 * applied one at a time in arrival order and a joiner's initial state is consistent
 * with the patches that follow it. A store with one member is the original
 * per-connection state; a store with many is a topic's shared state.
 *
 * A handler call that fails, times out or returns something the server refuses
 * changes nothing: everything is validated and encoded before the state and
 * version are assigned. Its operations never reject.
 */
export class StateStore {
  private state: State | undefined;
  /** The size of the state's JSON text, kept up to date from each patch. */
  private stateBytes = 0;
  private version = 0;
  private epoch = '';
  /** The `state:change` payload for this version, encoded once for every join and refresh that sends it. */
  private stateChangeJson: string | undefined;
  private readonly members = new Set<Member>();
  private readonly queue: TaskQueue;
  private readonly handler: LiveStateHandler;
  private readonly storage: Storage;
  private readonly maxVersion: number;
  private readonly handlerTimeoutMs: number;
  private readonly maxStateBytes: number;
  private readonly logger: Logger;
  private readonly onIdle: ((store: StateStore) => void) | undefined;

  constructor(
    readonly topic: string,
    { handler, storage, maxVersion, handlerTimeoutMs, maxStateBytes, logger, after, onIdle }: StateStoreOptions,
  ) {
    this.queue = new TaskQueue(after);
    this.onIdle = onIdle;
    this.handler = handler;
    this.storage = storage;
    this.maxVersion = maxVersion;
    this.handlerTimeoutMs = handlerTimeoutMs;
    this.maxStateBytes = maxStateBytes;
    this.logger = logger;
  }

  get memberCount(): number {
    return this.members.size;
  }

  /** The epoch of the state in memory; empty before it is loaded. */
  get currentEpoch(): string {
    return this.epoch;
  }

  /** Resolves when everything queued so far has run and the storage is told that the state left memory. */
  unload(): Promise<void> {
    return this.run('unload', async () => this.storage.release?.(this.topic));
  }

  /**
   * Adds a member and sends it the state: loaded from storage, or computed by `init` and
   * stored, when there is none in memory. A member resuming from a position of the current
   * epoch gets only the patches it missed, when the storage still has them all.
   */
  join(member: Member, params: Payload, resume?: Position): Promise<void> {
    this.members.add(member);
    return this.run('join', async () => {
      if (this.state === undefined && !(await this.load(member, params))) return;
      if (!this.members.has(member)) return;
      const missed = resume?.epoch === this.epoch ? await this.missedPatches(resume) : undefined;
      if (!this.members.has(member)) return;
      if (missed) for (const { version, patch } of missed) member.pushEncoded('state:patch', patchPayload(patch, version));
      else this.sendState(member);
    });
  }

  /** Stops pushing to a member at once; its queued work still runs but sends nothing to it. */
  leave(member: Member): void {
    if (this.members.delete(member) && this.members.size === 0) this.onIdle?.(this);
  }

  /** `lvs_refresh`: the whole state at the current version, to this member only. */
  refresh(member: Member, params: Payload): Promise<void> {
    return this.join(member, params);
  }

  /**
   * Runs the handler, then stores the update, then pushes its reply events and patch:
   * nothing is pushed that is not stored. A failure pushes `error` to the sender and changes nothing.
   */
  handleEvent(member: Member, name: string, payload: Payload): Promise<EventOutcome> {
    const outcome = this.queue.run(async (): Promise<EventOutcome> => {
      const state = this.state;
      if (state === undefined) {
        return this.fail(member, name, 'there is no state: the handler failed to initialize it');
      }
      try {
        const context: EventContext = { topic: this.topic, socket: member.socket };
        const result = await callHandler(this.handler, `the handler for "${name}"`, this.handlerTimeoutMs, () =>
          this.handler.handleEvent(name, payload, state, context),
        );
        return { ok: true, version: await this.commit(member, name, result) };
      } catch (error) {
        if (isInstance(error, StorageError)) {
          this.logger.error(`"${this.topic}": event "${name}" not applied: ${error.message}`);
          return this.fail(member, name, error.message);
        }
        return this.fail(member, name, reportHandlerFailure(this.logger, this.topic, name, error));
      }
    });
    return outcome.catch((error: unknown) => {
      const reason = `event "${name}" failed: ${errorText(error)}`;
      this.logger.error(`"${this.topic}": ${reason}`);
      return { ok: false, reason };
    });
  }

  /** Queues a task; a failure that escapes it is logged rather than rejected, since callers do not wait. */
  private run(what: string, task: () => Promise<void>): Promise<void> {
    return this.queue.run(task).catch((error: unknown) => {
      this.logger.error(`"${this.topic}": ${what} failed: ${errorText(error)}`);
    });
  }

  /** Puts the stored state in memory, or the handler's initial state after storing it; `false` when neither could be had. */
  private async load(member: Member, params: Payload): Promise<boolean> {
    try {
      const stored = await this.storage.load(this.topic).catch((error: unknown) => {
        throw new StorageError(`the state could not be loaded: ${errorText(error)}`);
      });
      if (stored) {
        this.applyEncoded(deepFreeze(stored.state), stored.version, stored.epoch, JSON.stringify(stored.state));
        return true;
      }
      const created = await callHandler(this.handler, 'init', this.handlerTimeoutMs, () => this.handler.init(this.topic, params, member.socket));
      const initial = initialState(created, this.maxStateBytes);
      const epoch = newEpoch();
      await this.store({ state: initial.state, version: 0, epoch, follows: null, patch: '[]' });
      this.applyEncoded(initial.state, 0, epoch, initial.json);
      return true;
    } catch (error) {
      let message: string;
      if (isInstance(error, StorageError)) {
        this.logger.error(`"${this.topic}": ${error.message}`);
        message = error.message;
      } else {
        message = reportHandlerFailure(this.logger, this.topic, 'init', error);
      }
      if (this.members.has(member)) member.push('error', { message });
      return false;
    }
  }

  private async missedPatches(from: Position) {
    try {
      return await this.storage.patchesAfter(this.topic, from);
    } catch (error) {
      this.logger.warn(`"${this.topic}": cannot read the patch log, sending the whole state: ${errorText(error)}`);
      return undefined;
    }
  }

  /**
   * Validates a handler's result and stores it, then sends reply events and one patch;
   * throws, changing nothing, when the result is invalid or cannot be stored.
   */
  private async commit(sender: Member, name: string, result: State | Reply): Promise<number> {
    const change = eventChange(this.state!, this.stateBytes, name, result, this.maxStateBytes);
    const version = nextVersion(this.version, this.maxVersion);
    const follows = { epoch: this.epoch, version: this.version };
    try {
      await this.store({ state: change.state, version, epoch: this.epoch, follows, patch: change.patch });
    } catch (error) {
      change.revert();
      throw error;
    }
    change.stored();
    this.apply(change.state, version, this.epoch, change.bytes);
    if (this.members.has(sender)) {
      for (const event of change.events) sender.push(event.name, event.detail ?? {});
    }
    const frame = encodeBroadcast(this.topic, 'state:patch', patchPayload(change.patch, version));
    for (const member of this.members) member.sendBroadcast(frame);
    return version;
  }

  private async store(update: Update): Promise<void> {
    try {
      await this.storage.append(this.topic, update);
    } catch (error) {
      throw new StorageError(`the update could not be stored: ${errorText(error)}`);
    }
  }

  /** Makes `state` the current one: frozen by whoever made it, or the server's own copy that patches change in place. */
  private apply(state: State, version: number, epoch: string, bytes: number): void {
    this.state = state;
    this.version = version;
    this.epoch = epoch;
    this.stateBytes = bytes;
    this.stateChangeJson = undefined;
  }

  /** {@link apply} for a state whose JSON text is at hand: its size and `state:change` payload come from that text. */
  private applyEncoded(state: State, version: number, epoch: string, json: string): void {
    this.apply(state, version, epoch, Buffer.byteLength(json));
    this.stateChangeJson = stateChangePayload(json, version, epoch);
  }

  private sendState(member: Member): void {
    this.stateChangeJson ??= stateChangePayload(JSON.stringify(this.state), this.version, this.epoch);
    member.pushEncoded('state:change', this.stateChangeJson);
  }

  private fail(member: Member, event: string, reason: string): EventOutcome {
    if (this.members.has(member)) member.push('error', { message: reason, event });
    return { ok: false, reason };
  }
}

/** The version after `version`: one more, or 0 after `maxVersion`, as in the reference server. */
export const nextVersion = (version: number, maxVersion: number): number => (version >= maxVersion ? 0 : version + 1);

/** The `state:change` payload for a state's JSON text. */
export const stateChangePayload = (stateJson: string, version: number, epoch: string): string =>
  `{"state":${stateJson},"version":${version},"epoch":${JSON.stringify(epoch)}}`;

/** The `state:patch` payload for a patch's JSON text. */
export const patchPayload = (patchJson: string, version: number): string => `{"patch":${patchJson},"version":${version}}`;
