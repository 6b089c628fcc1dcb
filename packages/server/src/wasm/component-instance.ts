import { GuestError, type GuestInstance, type GuestOutput } from './guest-instance.js';
import { InstanceSnapshot } from './instance-snapshot.js';
import type { ComponentModule, GuestInput } from './worker-protocol.js';

/*
 * A LiveState handler component (the `livestate:handler` world, see
 * @livestate/guest-js's wit/handler.wit) instantiated through its jco loader,
 * inside a plugin worker. JSON crosses as bytes: lists of bytes are copied in one
 * go, where strings would be lifted character by character.
 */

/** The call that lists a component's events; `livestate_` names are never events. */
export const COMPONENT_EVENTS_CALL = 'livestate_events';

interface ReplyEvent {
  name: string;
  detail: Uint8Array;
}

/** The world's exports as jco lifts them; an `err` result is thrown as an error with a `payload`. */
interface HandlerExports {
  init(params: Uint8Array): Uint8Array;
  handleEvent(name: string, payload: Uint8Array, state: Uint8Array): { state: Uint8Array; events: ReplyEvent[] };
  events(): string[];
}

type Failure = string | { tag: 'unknown-event' } | { tag: 'message'; val: string };

interface Loader {
  instantiate(
    getCoreModule: (name: string) => WebAssembly.Module,
    imports: object,
    instantiateCore: (module: WebAssembly.Module, imports: WebAssembly.Imports) => Promise<WebAssembly.Instance>,
  ): Promise<HandlerExports>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Instantiates the component with no imports at all: it can reach nothing but its own
 * memory. When `restorable` (its core modules' mutable globals are exported), the core
 * instances are snapshotted as created, and `reset` puts them back before a call for
 * another state, which takes a fraction of a millisecond where a new instance takes many.
 */
export async function instantiateComponent(component: ComponentModule, restorable: boolean): Promise<GuestInstance> {
  const loader = (await import(component.loader)) as Loader;
  const memories: WebAssembly.Memory[] = [];
  const cores: WebAssembly.Instance[] = [];
  const exports = await loader.instantiate(
    (name) => {
      const core = component.cores[name];
      if (!core) throw new Error(`the component's loader asks for a core module "${name}" it was not built with`);
      return core;
    },
    {},
    async (module, imports) => {
      const instance = await WebAssembly.instantiate(module, imports);
      memories.push(...Object.values(instance.exports).filter((value) => value instanceof WebAssembly.Memory));
      cores.push(instance);
      return instance;
    },
  );
  for (const name of ['init', 'handleEvent', 'events'] as const) {
    if (typeof exports[name] !== 'function') throw new Error(`the component does not export "${name}": it is not a LiveState handler`);
  }
  const snapshots = restorable ? snapshotsOf(cores) : undefined;
  return {
    ...(snapshots ? { reset: () => snapshots.every((snapshot) => snapshot.restore()) } : {}),
    call: async (name, input) => call(exports, name, input),
    get memoryBytes() {
      return memories.reduce((total, memory) => total + memory.buffer.byteLength, 0);
    },
    close: async () => undefined,
  };
}

/** Snapshots of the core instances, or undefined when one has no exported memory to take it from. */
function snapshotsOf(cores: WebAssembly.Instance[]): InstanceSnapshot[] | undefined {
  const snapshots: InstanceSnapshot[] = [];
  for (const core of cores) {
    const memory = Object.values(core.exports).find((value) => value instanceof WebAssembly.Memory);
    if (!memory) return undefined;
    snapshots.push(InstanceSnapshot.take(core.exports, memory));
  }
  return snapshots;
}

function call(exports: HandlerExports, name: string, input: GuestInput): GuestOutput {
  try {
    if (name === COMPONENT_EVENTS_CALL) return textOutput(JSON.stringify(exports.events()));
    if (name === 'init') return bytesOutput(exports.init(encoder.encode(String(input))));
    if (typeof input === 'string') throw new TypeError('a component event takes its payload and state as two JSON texts');
    const [payload = 'null', state = '{}'] = input;
    const update = exports.handleEvent(name, encoder.encode(payload), encoder.encode(state));
    return {
      byteLength: update.events.reduce((total, event) => total + event.name.length + event.detail.byteLength, update.state.byteLength),
      text() {
        const events = update.events.map((event) => `{"name":${JSON.stringify(event.name)},"detail":${decoder.decode(event.detail)}}`);
        return `{"state":${decoder.decode(update.state)},"events":[${events.join(',')}]}`;
      },
    };
  } catch (error) {
    if (error instanceof Error && 'payload' in error) throw new GuestError(failureMessage(error.payload as Failure, name));
    throw error;
  }
}

const bytesOutput = (bytes: Uint8Array): GuestOutput => ({ byteLength: bytes.byteLength, text: () => decoder.decode(bytes) });
const textOutput = (text: string): GuestOutput => ({ byteLength: text.length, text: () => text });

function failureMessage(failure: Failure, name: string): string {
  if (typeof failure === 'string') return failure;
  return failure.tag === 'unknown-event' ? `unknown event "${name}"` : failure.val;
}
