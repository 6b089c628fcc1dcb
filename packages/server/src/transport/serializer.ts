/**
 * The Phoenix Channels v2 JSON serializer: every text frame is
 * `[join_ref, ref, topic, event, payload]`.
 *
 * Decoding validates the shape so that a malformed frame becomes a precise
 * error for its sender instead of an exception deep inside a channel.
 * Encoding takes the payload as JSON text, so a payload shared by many
 * recipients (a state patch fanned out to a topic) is stringified once.
 */

import { MAX_JSON_DEPTH, nestedDeeperThan, tooDeepText } from '../state/json-depth.js';

export type Payload = Record<string, unknown>;

export interface Message {
  joinRef: string | null;
  ref: string | null;
  topic: string;
  event: string;
  payload: Payload;
}

export type DecodeResult =
  | { ok: true; message: Message }
  | { ok: false; reason: string; ref: string | null; topic: string | null };

const describe = (value: unknown): string =>
  value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;

const isPayload = (value: unknown): value is Payload =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Decodes one text frame. Never throws. */
export function decode(text: string): DecodeResult {
  let frame: unknown;
  try {
    frame = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'malformed frame: not JSON', ref: null, topic: null };
  }
  if (!Array.isArray(frame) || frame.length !== 5) {
    const got = Array.isArray(frame) ? `an array of ${frame.length}` : describe(frame);
    return {
      ok: false,
      reason: `malformed frame: expected [join_ref, ref, topic, event, payload], got ${got}`,
      ref: null,
      topic: null,
    };
  }
  const [joinRef, ref, topic, event, payload] = frame as unknown[];
  const refuse = (reason: string): DecodeResult => ({
    ok: false,
    reason,
    ref: typeof ref === 'string' ? ref : null,
    topic: typeof topic === 'string' ? topic : null,
  });
  const fail = (reason: string): DecodeResult => refuse(`malformed frame: ${reason}`);
  if (joinRef !== null && typeof joinRef !== 'string') {
    return fail(`join_ref must be a string or null, got ${describe(joinRef)}`);
  }
  if (ref !== null && typeof ref !== 'string') {
    return fail(`ref must be a string or null, got ${describe(ref)}`);
  }
  if (typeof topic !== 'string' || topic === '') {
    return fail(`topic must be a non-empty string, got ${describe(topic)}`);
  }
  if (typeof event !== 'string' || event === '') {
    return fail(`event must be a non-empty string, got ${describe(event)}`);
  }
  if (!isPayload(payload)) {
    return fail(`payload must be an object, got ${describe(payload)}`);
  }
  // Refused here, before a handler, a guest or the encoder walks it with the call stack.
  if (nestedDeeperThan(payload, MAX_JSON_DEPTH)) return refuse(`the payload is ${tooDeepText(MAX_JSON_DEPTH)}`);
  return { ok: true, message: { joinRef, ref, topic, event, payload } };
}

/** Encodes a frame whose payload is already JSON text. */
export function encodeRaw(
  joinRef: string | null,
  ref: string | null,
  topic: string,
  event: string,
  payloadJson: string,
): string {
  return `[${JSON.stringify(joinRef)},${JSON.stringify(ref)},${JSON.stringify(topic)},${JSON.stringify(event)},${payloadJson}]`;
}

/**
 * Encodes a Phoenix broadcast (`[null, null, topic, event, payload]`) to UTF-8 once, so every
 * member of a topic is sent the same bytes. phoenix.js delivers a frame with a null join_ref
 * to whichever join of its topic the socket has, where a channel push names its join.
 */
export function encodeBroadcast(topic: string, event: string, payloadJson: string): Buffer {
  return Buffer.from(encodeRaw(null, null, topic, event, payloadJson));
}

export function encode(
  joinRef: string | null,
  ref: string | null,
  topic: string,
  event: string,
  payload: unknown,
): string {
  return encodeRaw(joinRef, ref, topic, event, JSON.stringify(payload));
}

/** The payload of a `phx_reply`. */
export const replyPayload = (status: 'ok' | 'error', response: unknown): Payload => ({
  status,
  response,
});
