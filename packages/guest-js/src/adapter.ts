import { isDefinition, isReply, type EventFunction, type HandlerDefinition, type State } from './index.js';

/*
 * The `livestate:handler` world (wit/handler.wit) in terms of a handler module. The
 * build bundles this file with the handler into the component: it runs inside the
 * sandbox, never in the server.
 */

interface ReplyEventBytes {
  name: string;
  detail: Uint8Array;
}

/** jco's and componentize-js's shape of a WIT variant value. */
type Failure = { tag: 'unknown-event' } | { tag: 'message'; val: string };

export interface HandlerWorld {
  init(params: Uint8Array): Uint8Array;
  handleEvent(name: string, payload: Uint8Array, state: Uint8Array): { state: Uint8Array; events: ReplyEventBytes[] };
  events(): string[];
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const toBytes = (value: unknown) => encoder.encode(JSON.stringify(value ?? null));
const fromBytes = (bytes: Uint8Array): unknown => JSON.parse(decoder.decode(bytes));

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Finds the handler in a module: a `defineHandler(...)` default export, or else the
 * exported `init` and one exported function per event.
 */
export function handlerOf(module: Record<string, unknown>): HandlerDefinition {
  if (isDefinition(module.default)) return module.default;
  const events: Record<string, EventFunction> = {};
  for (const [name, value] of Object.entries(module)) {
    if (name !== 'init' && name !== 'default' && typeof value === 'function') events[name] = value as EventFunction;
  }
  const init = typeof module.init === 'function' ? (module.init as HandlerDefinition['init']) : () => ({});
  return { init, events };
}

/** A synchronous result: a component has no event loop to wait on. */
function settled<T>(value: T, what: string): T {
  if (typeof (value as { then?: unknown } | null)?.then === 'function') {
    throw new Error(`${what} returned a promise; handlers in a component must be synchronous`);
  }
  return value;
}

export function handlerWorld(module: Record<string, unknown>): HandlerWorld {
  const { init, events } = handlerOf(module);
  return {
    init(params) {
      try {
        return toBytes(settled(init(fromBytes(params)), 'init'));
      } catch (error) {
        throw messageOf(error);
      }
    },
    handleEvent(name, payload, state) {
      if (!Object.hasOwn(events, name)) throw { tag: 'unknown-event' } satisfies Failure;
      try {
        const result = settled(events[name]!(fromBytes(payload), fromBytes(state) as State), name);
        const { state: next, events: replies } = isReply(result) ? result : { state: result, events: [] };
        return {
          state: toBytes(next),
          events: replies.map((event) => ({ name: String(event.name), detail: toBytes(event.detail) })),
        };
      } catch (error) {
        throw { tag: 'message', val: messageOf(error) } satisfies Failure;
      }
    },
    events: () => Object.keys(events),
  };
}
