import { errorText } from '../error-text.js';
import type { LiveStateHandler, ReplyEvent, State } from '../handler.js';
import { ownTimeLimit, Reply, UserError } from '../handler.js';
import { applyPatch, patchOperations, type AppliedPatch } from './apply-patch.js';
import { deepFreeze } from './deep-freeze.js';
import { measuredDiff } from './diff.js';
import { isJsonObject } from './json.js';
import { MAX_JSON_DEPTH, nestedDeeperThan, TooDeepError, tooDeepText } from './json-depth.js';
import { PatchReply } from './patch-reply.js';
import { withTimeLimit } from './time-limit.js';

const describe = (value: unknown): string =>
  value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;

/** JSON text for a value that must be encoded whole; a {@link UserError} naming `what` when it cannot be. */
export function toJson(value: unknown, what: string): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (error) {
    // The encoder ran out of stack: say why, rather than how.
    if (error instanceof RangeError && nestedDeeperThan(value, MAX_JSON_DEPTH)) throw new UserError(`${what} is ${tooDeepText(MAX_JSON_DEPTH)}`);
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
  return { state: frozen(state, 'the state init returned'), json };
}

/** What an event changes, validated and encoded, ready to be stored and sent. */
export interface EventChange {
  /** The new state: frozen, or (from a {@link PatchReply}) the server's own copy changed in place. */
  readonly state: State;
  readonly events: readonly ReplyEvent[];
  /** The patch from the previous state, as JSON text. */
  readonly patch: string;
  /** The size of the new state's JSON text. */
  readonly bytes: number;
  /** Called once the change is stored. */
  stored(): void;
  /** Puts the previous state back, when the change could not be stored. */
  revert(): void;
}

/**
 * The change a handler's result makes to `previous` (of `previousBytes`): the new state, its
 * reply events and the patch. Throws a {@link UserError}, naming the event and changing nothing,
 * when the result is invalid, a reply event's detail or the state cannot be encoded, or the
 * state would be over `maxStateBytes`.
 */
export function eventChange(previous: State, previousBytes: number, name: string, result: State | Reply, maxStateBytes: number): EventChange {
  if (result instanceof PatchReply) return patchedChange(previous, previousBytes, name, result, maxStateBytes);
  const { state, events } = result instanceof Reply ? result : { state: result, events: [] };
  if (!isJsonObject(state)) {
    throw new UserError(`handler for "${name}" returned ${describe(state)}, expected an object`);
  }
  validateReplyEvents(name, events);
  const next = frozen(state, `the state the handler for "${name}" returned`);
  return { state: next, events, ...patchTo(previous, previousBytes, next, name, maxStateBytes), stored() {}, revert() {} };
}

/** A state deep-frozen; a {@link UserError} naming `what` when it nests too deep to be sent. */
function frozen(state: State, what: string): State {
  try {
    return deepFreeze(state, MAX_JSON_DEPTH);
  } catch (error) {
    if (!(error instanceof TooDeepError)) throw error;
    toJson(state, what); // names a circular state as such
    throw new UserError(`${what} is ${error.message}`);
  }
}

/** A {@link PatchReply} applied to the server's copy of the state; the guest is told when it is refused. */
function patchedChange(previous: State, previousBytes: number, name: string, result: PatchReply, maxStateBytes: number): EventChange {
  const what = `the patch the handler for "${name}" returned`;
  let applied: AppliedPatch | undefined;
  try {
    validateReplyEvents(name, result.events);
    let operations;
    try {
      operations = patchOperations(result.patch);
      applied = applyPatch(previous, operations);
    } catch (error) {
      throw new UserError(`${what} does not apply: ${errorText(error)}`);
    }
    const state = applied.document;
    if (!isJsonObject(state)) throw new UserError(`${what} turns the state into ${describe(state)}, expected an object`);
    const bytes = previousBytes + applied.sizeChange;
    checkStateSize(bytes, maxStateBytes, `the state ${what} leads to`);
    const { undo } = applied;
    const revert = () => {
      undo();
      result.settle(undefined);
    };
    return { state, events: result.events, patch: toJson(operations, what), bytes, stored: () => result.settle(state), revert };
  } catch (error) {
    applied?.undo();
    result.settle(undefined);
    throw error;
  }
}

function validateReplyEvents(name: string, events: readonly ReplyEvent[]): void {
  if (!Array.isArray(events)) throw new UserError(`the reply events of "${name}" are not an array`);
  events.forEach(validateReplyEvent);
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
function patchTo(previous: State, previousBytes: number, next: State, name: string, maxStateBytes: number): { patch: string; bytes: number } {
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
