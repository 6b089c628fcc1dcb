import type { TopicState } from '../channels/topic-state.js';
import { errorText } from '../error-text.js';
import type { EventOutcome, Member } from '../state/state-store.js';
import type { Position } from '../storage/storage.js';
import { encodeBroadcast, type Payload } from '../transport/serializer.js';
import type { Answer, Request, Update } from './messages.js';

/** What a topic's local view needs from its node. */
export interface ForwardContext {
  readonly nodeId: string;
  nextRequestId(): string;
  /** Hands a request to the topic's owner (found or taken first); resolves with the owner's node id. */
  send(request: Request): Promise<string>;
  /** Starts receiving the topic's updates; resolves once Redis confirmed it. */
  subscribe(topic: string): Promise<void>;
  /** The topic has no local members or requests left. */
  forget(topic: string): void;
}

interface LocalMember {
  params: Payload;
  /** Where the last state or patch this member got left it; `undefined` while it waits for a state. */
  at: Position | undefined;
  /** It may have missed updates and needs the whole state again (retried until it gets it). */
  stale: boolean;
}

interface Pending {
  request: Request;
  member: Member;
  /** Resolves the channel's call: an event's outcome, which the channel acknowledges. */
  done: (outcome: EventOutcome) => void;
  /** The node the request went to; '' until it was sent. */
  owner: string;
  /** When it was last sent (ms since the epoch). */
  sentAt: number;
  moves: number;
}

/** An owner that keeps answering `moved` is not converging: give up rather than loop. */
const MAX_MOVES = 5;

/**
 * A topic as one node sees it: the channels joined here, and the requests they made of the
 * topic's owner, wherever it runs. Updates arrive once per node and are fanned out to the
 * local members; the sender's reply events come first and its acknowledgement last.
 */
export class ClusterTopic implements TopicState {
  private readonly members = new Map<Member, LocalMember>();
  private readonly pending = new Map<string, Pending>();
  private subscription: Promise<void> | undefined;

  constructor(
    private readonly context: ForwardContext,
    readonly topic: string,
  ) {}

  async join(member: Member, params: Payload, resume?: Position): Promise<void> {
    this.members.set(member, { params, at: undefined, stale: false });
    await this.request(member, { kind: 'join', params, ...(resume ? { resume } : {}) });
  }

  refresh(member: Member, params: Payload): Promise<void> {
    return this.join(member, params);
  }

  leave(member: Member): void {
    this.members.delete(member);
    this.forgetWhenIdle();
  }

  handleEvent(member: Member, name: string, payload: Payload): Promise<EventOutcome> {
    return this.request(member, { kind: 'event', name, payload });
  }

  /** The owner that got some requests stopped (its lease is gone) and, as a barrier proved, did not commit them. */
  ownerLost(owner: string): void {
    for (const pending of this.pending.values()) {
      if (pending.owner !== owner) continue;
      if (pending.request.kind === 'event') {
        this.fail(pending, `the node that owned topic "${this.topic}" stopped before it applied this event; it was not applied`);
      } else {
        void this.dispatch(pending);
      }
    }
  }

  /**
   * The connection that receives updates and answers was lost: nothing in flight can be
   * confirmed any more, so it fails now, and members stop receiving until they are resynchronized.
   */
  connectionLost(): void {
    for (const pending of [...this.pending.values()]) {
      this.fail(
        pending,
        pending.request.kind === 'event'
          ? 'the connection to Redis was lost before this event was confirmed; it may or may not have been applied'
          : 'the connection to Redis was lost',
      );
    }
    for (const local of this.members.values()) {
      local.at = undefined;
      local.stale = true;
    }
  }

  /** Asks again for the whole state of every member that may have missed updates (and is not asking already). */
  resynchronize(): void {
    const joining = new Set([...this.pending.values()].filter((p) => p.request.kind === 'join').map((p) => p.member));
    for (const [member, local] of this.members) {
      if (local.stale && !joining.has(member)) void this.request(member, { kind: 'join', params: local.params });
    }
  }

  /**
   * Sends again the joins sent before `sentBefore` that got no answer: an answer published
   * while this node's subscriptions were being restored is lost. A join can be repeated.
   */
  retryJoins(sentBefore: number): void {
    for (const pending of this.pending.values()) {
      if (pending.request.kind === 'join' && pending.owner !== '' && pending.sentAt < sentBefore) void this.dispatch(pending);
    }
  }

  /** Owners that have requests of this topic in flight. */
  get pendingOwners(): Set<string> {
    return new Set([...this.pending.values()].map((pending) => pending.owner).filter((owner) => owner !== ''));
  }

  onUpdate(update: Update, body: string): void {
    if (update.kind !== 'update') return;
    const pending = update.from === this.context.nodeId && update.req ? this.pending.get(update.req) : undefined;
    if (pending) {
      this.pending.delete(update.req!);
      if (this.members.has(pending.member)) {
        for (const event of update.events ?? []) pending.member.push(event.name, event.detail ?? {});
      }
    }
    // Updates and answers leave the owner in one order and arrive in it: an update that does not
    // follow a member's position means something was missed, and the whole state is the safe answer.
    let frame: Buffer | undefined;
    for (const [member, local] of this.members) {
      if (local.at === undefined) continue;
      if (local.at.epoch === update.epoch && local.at.version === update.follows) {
        member.sendBroadcast((frame ??= encodeBroadcast(this.topic, 'state:patch', body)));
        local.at = { epoch: update.epoch, version: update.version };
      } else {
        local.at = undefined;
        local.stale = true;
        void this.request(member, { kind: 'join', params: local.params });
      }
    }
    if (pending) this.settle(pending, { ok: true, version: update.version });
  }

  onAnswer(answer: Answer, body: string): void {
    const pending = this.pending.get(answer.req);
    if (!pending) return;
    const local = this.members.get(pending.member);
    switch (answer.kind) {
      case 'state':
        if (local) {
          local.at = { epoch: answer.epoch, version: answer.version };
          local.stale = false;
          pending.member.pushEncoded('state:change', body);
        }
        break;
      case 'patches':
        if (local) {
          for (const patch of body.split('\n')) if (patch !== '') pending.member.pushEncoded('state:patch', patch);
          local.at = { epoch: answer.epoch, version: answer.version };
          local.stale = false;
        }
        break;
      case 'failed':
        this.fail(pending, answer.reason);
        return;
      case 'moved':
        if (++pending.moves > MAX_MOVES) this.fail(pending, `no node could take topic "${this.topic}"`);
        else void this.dispatch(pending);
        return;
    }
    this.settle(pending, { ok: true, version: answer.version });
  }

  private request(member: Member, request: Pick<Request, 'kind'> & Partial<Request>): Promise<EventOutcome> {
    return new Promise((done) => {
      const req = this.context.nextRequestId();
      const full = { ...request, topic: this.topic, req, from: this.context.nodeId, socket: member.socket } as Request;
      const pending: Pending = { request: full, member, done, owner: '', sentAt: 0, moves: 0 };
      this.pending.set(req, pending);
      void this.dispatch(pending);
    });
  }

  private async dispatch(pending: Pending): Promise<void> {
    pending.owner = '';
    pending.sentAt = Date.now();
    try {
      this.subscription ??= this.context.subscribe(this.topic).catch((error: unknown) => {
        this.subscription = undefined;
        throw error;
      });
      await this.subscription;
      pending.owner = await this.context.send(pending.request);
    } catch (error) {
      this.fail(pending, `Redis is unavailable: ${errorText(error)}`);
    }
  }

  private fail(pending: Pending, reason: string): void {
    if (!this.pending.has(pending.request.req)) return;
    const { request, member } = pending;
    if (this.members.has(member)) {
      member.push('error', request.kind === 'event' ? { message: reason, event: request.name } : { message: reason });
    }
    this.settle(pending, { ok: false, reason });
  }

  private settle(pending: Pending, outcome: EventOutcome): void {
    this.pending.delete(pending.request.req);
    pending.done(outcome);
    this.forgetWhenIdle();
  }

  private forgetWhenIdle(): void {
    if (this.members.size === 0 && this.pending.size === 0) this.context.forget(this.topic);
  }
}
