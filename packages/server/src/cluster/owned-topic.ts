import type { Route } from '../channels/route.js';
import type { State } from '../handler.js';
import type { Logger } from '../logger.js';
import { deepFreeze } from '../state/deep-freeze.js';
import { encodedSize } from '../state/diff.js';
import { newEpoch } from '../state/epoch.js';
import { errorText } from '../error-text.js';
import { reportHandlerFailure } from '../handler-failure.js';
import { callHandler, eventChange, initialState, type EventChange } from '../state/handler-result.js';
import { nextVersion, patchPayload } from '../state/state-store.js';
import { TaskQueue } from '../state/task-queue.js';
import { FencedWriteError, type RedisStorage } from '../storage/redis-storage.js';
import { StorageConflictError, type StoredState, type Update } from '../storage/storage.js';
import { encodeMessage, type Answer, type Request } from './messages.js';

/** What an owned topic needs from its node. */
export interface OwnerContext {
  readonly nodeId: string;
  readonly logger: Logger;
  /** Publishes an answer on the requesting node's channel (after every update published before it). */
  answer(to: string, answer: Answer, body?: string): Promise<void>;
  /** The topic's lease is gone: forget it, so requests for it are answered `moved`. */
  lost(topic: string): void;
}

type JoinRequest = Extract<Request, { kind: 'join' }>;
type EventRequest = Extract<Request, { kind: 'event' }>;
/** An answer before it is addressed, one member of the union at a time. */
type Unaddressed<T> = T extends unknown ? Omit<T, 'topic' | 'req'> : never;

/**
 * A topic this node owns: the only place its handler runs. Requests from every node are
 * applied one at a time; each update is stored in Redis (fenced by the lease) and published
 * in the same atomic step, so nothing is fanned out that is not stored.
 */
export class OwnedTopic {
  private state: State | undefined;
  /** The size of the state's JSON text, kept up to date from each patch. */
  private stateBytes: number;
  private version: number;
  private epoch: string;
  private readonly queue = new TaskQueue();
  /** Set while writes fail, so an outage is logged once, not once per event. */
  private failing = false;
  private handingOver: Promise<void> | undefined;
  /** Set once its lease is being released: nothing more is applied here. */
  private handedOver = false;

  constructor(
    private readonly context: OwnerContext,
    readonly topic: string,
    private readonly route: Route,
    readonly token: number,
    private readonly storage: RedisStorage,
    stored: StoredState | undefined,
  ) {
    this.state = stored && deepFreeze(stored.state);
    this.stateBytes = stored ? encodedSize(stored.state) : 0;
    this.version = stored?.version ?? 0;
    this.epoch = stored?.epoch ?? '';
  }

  /** The lease value this owner writes under. */
  get owner(): string {
    return `${this.context.nodeId}/${this.token}`;
  }

  /** When it last got a request (ms since the epoch), to hand idle topics back. */
  lastRequestAt = Date.now();

  handle(request: Request): Promise<void> {
    this.lastRequestAt = Date.now();
    return this.queue.run(() => {
      if (this.handedOver) return this.answer(request, { kind: 'moved' });
      return request.kind === 'join' ? this.join(request) : this.event(request);
    });
  }

  /** Resolves once every request queued so far is done. */
  drain(): Promise<void> {
    return this.queue.run(() => undefined);
  }

  /**
   * Runs `releaseLease` once every request queued so far is done. Requests queued after it are
   * answered `moved` only then, so the node that sent them finds the lease free and takes the
   * topic, instead of being sent back here until it gives up. Called twice, it runs once.
   */
  handOver(releaseLease: () => Promise<unknown>): Promise<void> {
    this.handingOver ??= this.queue.run(async () => {
      this.handedOver = true;
      await releaseLease();
    });
    return this.handingOver;
  }

  private async join(request: JoinRequest): Promise<void> {
    if (this.state === undefined && !(await this.initialize(request))) return;
    const position = { epoch: this.epoch, version: this.version };
    const { resume } = request;
    if (resume?.epoch === this.epoch) {
      const patches = await this.storage.patchesAfter(this.topic, resume).catch(() => undefined);
      if (patches) {
        const body = patches.map(({ patch, version }) => patchPayload(patch, version)).join('\n');
        await this.answer(request, { kind: 'patches', ...position }, body);
        return;
      }
    }
    await this.answer(request, { kind: 'state', ...position }, JSON.stringify({ state: this.state, ...position }));
  }

  /** Runs `init` and stores the first state; `false` (the requester told why) when either fails. */
  private async initialize(request: JoinRequest): Promise<boolean> {
    let state: State;
    let json: string;
    try {
      const { handler, handlerTimeoutMs, maxStateBytes } = this.route;
      const created = await callHandler(handler, 'init', handlerTimeoutMs, () => handler.init(this.topic, request.params, request.socket));
      ({ state, json } = initialState(created, maxStateBytes));
    } catch (error) {
      await this.answer(request, { kind: 'failed', reason: reportHandlerFailure(this.context.logger, this.topic, 'init', error) });
      return false;
    }
    const epoch = newEpoch();
    if (!(await this.store(request, { state, version: 0, epoch, follows: null, patch: '[]' }))) return false;
    this.state = state;
    this.stateBytes = Buffer.byteLength(json);
    this.version = 0;
    this.epoch = epoch;
    return true;
  }

  private async event(request: EventRequest): Promise<void> {
    const { name } = request;
    if (this.state === undefined) {
      await this.answer(request, { kind: 'failed', event: name, reason: 'there is no state: the handler failed to initialize it' });
      return;
    }
    const previous = this.state;
    let change: EventChange;
    try {
      const { handler, handlerTimeoutMs, maxStateBytes } = this.route;
      const result = await callHandler(handler, `the handler for "${name}"`, handlerTimeoutMs, () =>
        handler.handleEvent(name, request.payload, previous, { topic: this.topic, socket: request.socket }),
      );
      change = eventChange(previous, this.stateBytes, name, result, maxStateBytes);
    } catch (error) {
      await this.answer(request, { kind: 'failed', event: name, reason: reportHandlerFailure(this.context.logger, this.topic, name, error) });
      return;
    }
    const { epoch } = this;
    const follows = this.version;
    const version = nextVersion(follows, this.route.maxVersion);
    const { state, events, patch } = change;
    const update = encodeMessage(
      { kind: 'update', epoch, version, follows, from: request.from, req: request.req, ...(events.length > 0 ? { events } : {}) },
      patchPayload(patch, version),
    );
    if (!(await this.store(request, { state, version, epoch, follows: { epoch, version: follows }, patch }, update))) {
      change.revert();
      return;
    }
    change.stored();
    this.state = state;
    this.stateBytes = change.bytes;
    this.version = version;
  }

  /** Commits to Redis, publishing `update` in the same step; on failure answers the requester (`moved` when fenced off). */
  private async store(request: Request, commit: Update, update?: string): Promise<boolean> {
    try {
      await this.storage.append(this.topic, commit, { owner: this.owner, ...(update ? { publish: update } : {}) });
      this.failing = false;
      return true;
    } catch (error) {
      if (error instanceof FencedWriteError || error instanceof StorageConflictError) {
        this.context.logger.warn(`cluster: ${error.message}; giving the topic up`);
        this.context.lost(this.topic);
        await this.answer(request, { kind: 'moved' });
      } else {
        const reason = `the update could not be stored in Redis: ${errorText(error)}`;
        if (!this.failing) this.context.logger.error(`cluster: topic "${this.topic}": ${reason} (until it works again)`);
        this.failing = true;
        await this.answer(request, { kind: 'failed', reason, ...(request.kind === 'event' ? { event: request.name } : {}) });
      }
      return false;
    }
  }

  private async answer(request: Request, answer: Unaddressed<Answer>, body?: string): Promise<void> {
    try {
      await this.context.answer(request.from, { ...answer, topic: this.topic, req: request.req } as Answer, body);
    } catch (error) {
      this.context.logger.error(`cluster: cannot answer node ${request.from} about topic "${this.topic}": ${errorText(error)}`);
    }
  }
}
