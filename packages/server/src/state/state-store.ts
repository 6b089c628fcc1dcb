import type { EventContext, LiveStateHandler, ReplyEvent, SocketInfo, State } from '../handler.js';
import { Reply } from '../handler.js';
import type { Payload } from '../transport/serializer.js';
import { deepFreeze } from './deep-freeze.js';
import { diff } from './diff.js';
import { isJsonObject } from './json.js';
import { TaskQueue } from './task-queue.js';

/** A joined channel, as the store sees it: somewhere to push frames. */
export interface Member {
  readonly socket: SocketInfo;
  push(event: string, payload: unknown): void;
  /** Pushes a payload that is already JSON text, so a fan-out stringifies it once. */
  pushEncoded(event: string, payloadJson: string): void;
}

const errorMessage = (error: unknown): string =>
  error instanceof Error ? error.message : typeof error === 'string' ? error : JSON.stringify(error);

const describe = (value: unknown): string =>
  value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;

/**
 * One LiveState state, its version and the channels that see it.
 *
 * Every operation (join, event, refresh) runs through one queue, so events are
 * applied one at a time in arrival order and a joiner's initial state is consistent
 * with the patches that follow it. A store with one member is the original
 * per-connection state; a store with many is a topic's shared state.
 */
export class StateStore {
  private state: State | undefined;
  private version = 0;
  private readonly members = new Set<Member>();
  private readonly queue = new TaskQueue();

  constructor(
    readonly topic: string,
    private readonly handler: LiveStateHandler,
    private readonly maxVersion: number,
  ) {}

  get memberCount(): number {
    return this.members.size;
  }

  /** Adds a member and sends it the state, computing the initial state first if there is none. */
  join(member: Member, params: Payload): Promise<void> {
    this.members.add(member);
    return this.queue.run(async () => {
      if (this.state === undefined) await this.initialize(member, params);
      if (this.state !== undefined && this.members.has(member)) this.sendState(member);
    });
  }

  /** Stops pushing to a member at once; its queued work still runs but sends nothing to it. */
  leave(member: Member): void {
    this.members.delete(member);
  }

  /** `lvs_refresh`: the whole state at the current version, to this member only. */
  refresh(member: Member, params: Payload): Promise<void> {
    return this.join(member, params);
  }

  handleEvent(member: Member, name: string, payload: Payload): Promise<void> {
    return this.queue.run(async () => {
      if (this.state === undefined) {
        this.pushError(member, name, 'there is no state: the handler failed to initialize it');
        return;
      }
      try {
        const context: EventContext = { topic: this.topic, socket: member.socket };
        const result = await this.handler.handleEvent(name, payload, this.state, context);
        this.commit(member, name, result);
      } catch (error) {
        this.pushError(member, name, errorMessage(error));
      }
    });
  }

  private async initialize(member: Member, params: Payload): Promise<void> {
    try {
      const state = await this.handler.init(this.topic, params, member.socket);
      if (!isJsonObject(state)) throw new Error(`init returned ${describe(state)}, expected an object`);
      this.state = deepFreeze(state);
      this.version = 0;
    } catch (error) {
      if (this.members.has(member)) member.push('error', { message: errorMessage(error) });
    }
  }

  /** Validates a handler's result, then sends reply events and one patch; throws, changing nothing, when invalid. */
  private commit(sender: Member, name: string, result: State | Reply): void {
    const { state, events } = result instanceof Reply ? result : { state: result, events: [] };
    if (!isJsonObject(state)) {
      throw new Error(`handler for "${name}" returned ${describe(state)}, expected an object`);
    }
    events.forEach(validateReplyEvent);
    const next = deepFreeze(state);
    const version = this.version >= this.maxVersion ? 0 : this.version + 1;
    const payloadJson = `{"patch":${JSON.stringify(diff(this.state!, next))},"version":${version}}`;
    this.state = next;
    this.version = version;
    if (this.members.has(sender)) {
      for (const event of events) sender.push(event.name, event.detail ?? {});
    }
    for (const member of this.members) member.pushEncoded('state:patch', payloadJson);
  }

  private sendState(member: Member): void {
    member.push('state:change', { state: this.state, version: this.version });
  }

  private pushError(member: Member, event: string, message: string): void {
    if (this.members.has(member)) member.push('error', { message, event });
  }
}

function validateReplyEvent(event: ReplyEvent): void {
  if (!isJsonObject(event) || typeof event.name !== 'string' || event.name === '') {
    throw new Error('a reply event must be an object with a non-empty string "name"');
  }
}
