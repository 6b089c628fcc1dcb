import type { Route } from '../channels/route.js';
import type { State } from '../handler.js';
import type { Logger } from '../logger.js';
import { deepFreeze } from '../state/deep-freeze.js';
import { diff } from '../state/diff.js';
import { errorMessage, eventResult, initialState } from '../state/handler-result.js';
import type { JsonObject } from '../state/json.js';
import { newEpoch } from '../state/epoch.js';
import { patchPayload } from '../state/state-store.js';
import { TaskQueue } from '../state/task-queue.js';
import { encodeMessage, type Answer, type Request } from './messages.js';
import { FencedWriteError, type Commit, type RedisTopicStore, type StoredTopic } from './redis-topic-store.js';

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

/**
 * A topic this node owns: the only place its handler runs. Requests from every node are
 * applied one at a time; each update is stored in Redis (fenced by the lease) and published
 * in the same atomic step, so nothing is fanned out that is not stored.
 */
export class OwnedTopic {
  private state: State | undefined;
  private seq: number;
  private epoch: string;
  private readonly queue = new TaskQueue();

  constructor(
    private readonly context: OwnerContext,
    readonly topic: string,
    private readonly route: Route,
    readonly token: number,
    private readonly storage: RedisTopicStore,
    stored: StoredTopic | undefined,
  ) {
    this.state = stored && deepFreeze(JSON.parse(stored.stateJson) as JsonObject);
    this.seq = stored?.seq ?? -1;
    this.epoch = stored?.epoch ?? '';
  }

  /** The lease value this owner writes under. */
  get owner(): string {
    return `${this.context.nodeId}/${this.token}`;
  }

  handle(request: Request): Promise<void> {
    return this.queue.run(() => (request.kind === 'join' ? this.join(request) : this.event(request)));
  }

  /** Resolves once every request queued so far is done. */
  drain(): Promise<void> {
    return this.queue.run(() => undefined);
  }

  private version(seq: number): number {
    return seq % (this.route.maxVersion + 1);
  }

  private async join(request: JoinRequest): Promise<void> {
    if (this.state === undefined && !(await this.initialize(request))) return;
    const { resume } = request;
    if (resume && resume.epoch === this.epoch) {
      const behind = (this.version(this.seq) - resume.version + this.route.maxVersion + 1) % (this.route.maxVersion + 1);
      const patches = await this.storage.patchesAfter(this.seq - behind, this.seq).catch(() => undefined);
      if (patches) {
        await this.answer(request, { kind: 'patches', seq: this.seq }, patches.join('\n'));
        return;
      }
    }
    const change = JSON.stringify({ state: this.state, version: this.version(this.seq), epoch: this.epoch });
    await this.answer(request, { kind: 'state', seq: this.seq }, change);
  }

  /** Runs `init` and stores the first state; `false` (the requester told why) when either fails. */
  private async initialize(request: JoinRequest): Promise<boolean> {
    let state: State;
    try {
      state = initialState(await this.route.handler.init(this.topic, request.params, request.socket));
    } catch (error) {
      await this.answer(request, { kind: 'failed', reason: errorMessage(error) });
      return false;
    }
    const epoch = newEpoch();
    if (!(await this.store(request, { previousSeq: this.seq, seq: 0, stateJson: JSON.stringify(state), epoch }))) return false;
    this.state = state;
    this.seq = 0;
    this.epoch = epoch;
    return true;
  }

  private async event(request: EventRequest): Promise<void> {
    const { name } = request;
    if (this.state === undefined) {
      await this.answer(request, { kind: 'failed', event: name, reason: 'there is no state: the handler failed to initialize it' });
      return;
    }
    let next: State;
    let events;
    try {
      const result = await this.route.handler.handleEvent(name, request.payload, this.state, { topic: this.topic, socket: request.socket });
      ({ state: next, events } = eventResult(name, result));
    } catch (error) {
      await this.answer(request, { kind: 'failed', event: name, reason: errorMessage(error) });
      return;
    }
    const seq = this.seq + 1;
    const version = this.version(seq);
    const patchJson = patchPayload(JSON.stringify(diff(this.state, next)), version);
    const update = encodeMessage(
      { kind: 'update', seq, version, from: request.from, req: request.req, ...(events.length > 0 ? { events } : {}) },
      patchJson,
    );
    if (!(await this.store(request, { previousSeq: this.seq, seq, stateJson: JSON.stringify(next), epoch: this.epoch, patchJson, update }))) return;
    this.state = next;
    this.seq = seq;
  }

  /** Commits to Redis; on failure answers the requester (`moved` when fenced off) and returns `false`. */
  private async store(request: Request, commit: Omit<Commit, 'owner'>): Promise<boolean> {
    try {
      await this.storage.commit({ owner: this.owner, ...commit });
      return true;
    } catch (error) {
      if (error instanceof FencedWriteError) {
        this.context.logger.warn(`cluster: ${error.message}; giving the topic up`);
        this.context.lost(this.topic);
        await this.answer(request, { kind: 'moved' });
      } else {
        const reason = `the update could not be stored in Redis: ${errorMessage(error)}`;
        this.context.logger.error(`cluster: topic "${this.topic}": ${reason}`);
        await this.answer(request, { kind: 'failed', reason, ...(request.kind === 'event' ? { event: request.name } : {}) });
      }
      return false;
    }
  }

  private async answer(request: Request, answer: Omit<Answer, 'topic' | 'req'> & Partial<Answer>, body?: string): Promise<void> {
    try {
      await this.context.answer(request.from, { ...answer, topic: this.topic, req: request.req } as Answer, body);
    } catch (error) {
      this.context.logger.error(`cluster: cannot answer node ${request.from} about topic "${this.topic}": ${errorMessage(error)}`);
    }
  }
}
