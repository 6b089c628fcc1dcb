import { errorText } from '../error-text.js';
import type { LiveStateHandler, ReplyEvent, State } from '../handler.js';
import { ownTimeLimit, Reply, UserError } from '../handler.js';
import { deepFreeze } from './deep-freeze.js';
import { measuredDiff } from './diff.js';
import { isJsonObject } from './json.js';
import { withTimeLimit } from './time-limit.js';

const describe = (value: unknown): string =>
  value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;

/** JSON text for a value that must be encoded whole; a {@link UserError} naming `what` when it cannot be. */
export function toJson(value: unknown, what: string): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (error) {
    throw new UserError(`${what} cannot be encoded as JSON: ${errorText(error)}`);
  }
  if (json === undefined) throw new UserError(`${what} cannot be encoded as JSON: it is ${describe(value)}`);
  return json;
}

/** Throws a {@link UserError} when a state of `bytes` is over `limit` (the `maxStateBytes` option). */
export function checkStateSize(bytes: number, limit: number, what: string): void {
  if (bytes > limit) {
    throw new UserError(`${what} is ${bytes} bytes of JSON, over the limit of ${limit} bytes (maxStateBytes)`);
  }
}

/**
 * Calls a handler within `ms` (unless it keeps its own {@link ownTimeLimit}); `what` names
 * the call in the timeout error (`init`, `authorize`, `the handler for "x"`).
 */
export function callHandler<T>(handler: LiveStateHandler, what: string, ms: number, run: () => T | Promise<T>): Promise<T> {
  if (handler[ownTimeLimit]) return Promise.resolve().then(run);
  return withTimeLimit(run, ms, () => new UserError(`${what} timed out: it did not finish within ${ms} ms`));
}

/** What `init` returned, frozen, and its JSON text; throws when it is not a state that can be sent. */
export function initialState(state: unknown, maxStateBytes: number): { state: State; json: string } {
  if (!isJsonObject(state)) throw new UserError(`init returned ${describe(state)}, expected an object`);
  const json = toJson(state, 'the state init returned');
  checkStateSize(Buffer.byteLength(json), maxStateBytes, 'the state init returned');
  return { state: deepFreeze(state), json };
}

/**
 * A handler's new state (frozen) and reply events; throws, naming the event, when the
 * result is invalid or a reply event's detail cannot be encoded, before anything changes.
 */
export function eventResult(name: string, result: State | Reply): { state: State; events: readonly ReplyEvent[] } {
  const { state, events } = result instanceof Reply ? result : { state: result, events: [] };
  if (!isJsonObject(state)) {
    throw new UserError(`handler for "${name}" returned ${describe(state)}, expected an object`);
  }
  if (!Array.isArray(events)) throw new UserError(`the reply events of "${name}" are not an array`);
  events.forEach(validateReplyEvent);
  return { state: deepFreeze(state), events };
}

function validateReplyEvent(event: ReplyEvent): void {
  if (!isJsonObject(event) || typeof event.name !== 'string' || event.name === '') {
    throw new UserError('a reply event must be an object with a non-empty string "name"');
  }
  toJson(event.detail ?? {}, `the detail of reply event "${event.name}"`);
}

/**
 * The patch from a state of `previousBytes` to `next`, as JSON text, and the new state's size;
 * throws a {@link UserError}, naming the event, when `next` is over `maxStateBytes` or cannot be encoded.
 */
export function patchTo(previous: State, previousBytes: number, next: State, name: string, maxStateBytes: number): { patch: string; bytes: number } {
  const what = `the state the handler for "${name}" returned`;
  let measured;
  try {
    measured = measuredDiff(previous, next);
  } catch (error) {
    throw new UserError(`${what} cannot be encoded as JSON: ${errorText(error)}`);
  }
  const bytes = previousBytes + measured.sizeChange;
  checkStateSize(bytes, maxStateBytes, what);
  return { patch: toJson(measured.patch, what), bytes };
}
