import type { ReplyEvent, State } from '../handler.js';
import { Reply } from '../handler.js';
import { deepFreeze } from './deep-freeze.js';
import { isJsonObject } from './json.js';

export const errorMessage = (error: unknown): string =>
  error instanceof Error ? error.message : typeof error === 'string' ? error : JSON.stringify(error);

const describe = (value: unknown): string =>
  value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;

/** What `init` returned, frozen; throws when it is not a state. */
export function initialState(state: unknown): State {
  if (!isJsonObject(state)) throw new Error(`init returned ${describe(state)}, expected an object`);
  return deepFreeze(state);
}

/** A handler's new state (frozen) and reply events; throws, naming the event, when the result is invalid. */
export function eventResult(name: string, result: State | Reply): { state: State; events: readonly ReplyEvent[] } {
  const { state, events } = result instanceof Reply ? result : { state: result, events: [] };
  if (!isJsonObject(state)) {
    throw new Error(`handler for "${name}" returned ${describe(state)}, expected an object`);
  }
  events.forEach(validateReplyEvent);
  return { state: deepFreeze(state), events };
}

function validateReplyEvent(event: ReplyEvent): void {
  if (!isJsonObject(event) || typeof event.name !== 'string' || event.name === '') {
    throw new Error('a reply event must be an object with a non-empty string "name"');
  }
}
