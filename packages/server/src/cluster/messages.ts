import type { ReplyEvent, SocketInfo } from '../handler.js';
import type { Position } from '../storage/storage.js';
import type { Payload } from '../transport/serializer.js';

interface Addressed {
  topic: string;
  /** The requesting node's id for this request. */
  req: string;
}

/** Sent to a topic's owner by the node that holds the client's socket (or handled in place when that is the owner). */
export type Request = Addressed & { from: string; socket: SocketInfo } & (
    | { kind: 'join'; params: Payload; resume?: Position }
    | { kind: 'event'; name: string; payload: Payload }
  );

/** The owner's answer to one request, on the requesting node's channel; the body carries encoded payloads. */
export type Answer = Addressed &
  (
    | ({ kind: 'state' } & Position) // body: the `state:change` payload
    | ({ kind: 'patches' } & Position) // body: `state:patch` payloads, one a line
    | { kind: 'failed'; reason: string; event?: string }
    /** This node does not own the topic (any more): ask whoever does. */
    | { kind: 'moved' }
  );

/** Published once per committed update on the topic's channel, for every node; the body is the `state:patch` payload. */
export type Update =
  | {
      kind: 'update';
      epoch: string;
      version: number;
      /** The version this update follows: a node that holds another one missed something. */
      follows: number;
      from?: string;
      req?: string;
      events?: readonly ReplyEvent[];
    }
  /** The owner gave the topic up (shutdown): the next request goes to whoever takes it. */
  | { kind: 'released' };

/** Sent by a node to itself: when it arrives, everything published before it has arrived too. */
export type Barrier = { kind: 'barrier'; id: string };

export type NodeMessage = Request | Answer | Barrier;

/** A header (JSON, which never holds a raw newline), a newline, then a body that is already JSON. */
export const encodeMessage = (header: NodeMessage | Update, body = ''): string => `${JSON.stringify(header)}\n${body}`;

export function decodeMessage<T>(message: string): { header: T; body: string } {
  const newline = message.indexOf('\n');
  return { header: JSON.parse(message.slice(0, newline)) as T, body: message.slice(newline + 1) };
}
