import type { EventOutcome, Member } from '../state/state-store.js';
import type { Position } from '../storage/storage.js';
import type { Payload } from '../transport/serializer.js';

/** What a channel drives: a state held in this process, or a topic owned by some node of a cluster. */
export interface TopicState {
  join(member: Member, params: Payload, resume?: Position): Promise<void>;
  leave(member: Member): void;
  refresh(member: Member, params: Payload): Promise<void>;
  handleEvent(member: Member, name: string, payload: Payload): Promise<EventOutcome>;
}
