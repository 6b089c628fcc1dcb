import createPlugin, { type Plugin } from '@extism/extism';
import { parentPort, workerData } from 'node:worker_threads';
import { bulkCopyFunctions, USER_NAMESPACE } from './bulk-copy.js';
import { guestVars } from './guest-vars.js';
import { EntryMark } from './entry-mark.js';
import { InstanceSnapshot } from './instance-snapshot.js';
import { KernelBudget } from './kernel-budget.js';
import { rewriteModule } from './module-rewriter.js';
import { sandboxWasi, WASI_NAMESPACE, WasiExit } from './sandbox-wasi.js';
import { instantiateComponent } from './component-instance.js';
import { GuestError, type GuestInstance } from './guest-instance.js';
import { LOAD_EXPORT, type FromWorker, type GuestInput, type GuestModule, type LogLevel, type PluginSettings, type ToWorker } from './worker-protocol.js';

/*
 * A worker thread that runs guest calls, one at a time, on in-process Extism
 * plugins and on transpiled components. The pool ends a runaway call by
 * terminating this thread, which is why guests run here and not on the server's
 * event loop.
 */

interface Loaded {
  guest: GuestModule;
  settings: PluginSettings;
  instance?: GuestInstance;
  /** The state the instance's last call was for. */
  caller?: string;
  /** The module again, with its memory starting as large as an instance grew (see {@link startLarger}). */
  larger?: { pages: number; module: Promise<WebAssembly.Module> };
  /** A resident module's instances, each holding one caller's state, by caller. */
  residents: Map<string, GuestInstance>;
  /** An instance put back as it was created, for the next state a resident module loads. */
  spare?: GuestInstance;
}

const port = parentPort!;
const entryMark = new EntryMark((workerData as { entryMark: SharedArrayBuffer }).entryMark);
const modules = new Map<number, Loaded>();
const GUEST_ERROR_PREFIX = 'Plugin-originated error: ';
const KERNEL_NAMESPACE = 'extism:host/env';
const MAX_VAR_BYTES = 1024 * 1024;
/** The most pages a 32-bit memory can have: the module's own maximum, already capped, is what limits it. */
const MAX_PAGES = 65536;
const send = (message: FromWorker) => port.postMessage(message);
const count = (value: number) => value.toLocaleString('en-US');

function loggerFor(moduleId: number): Console {
  const log = (level: LogLevel) => (...parts: unknown[]) => send({ type: 'log', moduleId, level, message: parts.map(String).join(' ') });
  return { trace: log('trace'), debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') } as unknown as Console;
}

async function instantiate(moduleId: number, loaded: Loaded): Promise<GuestInstance> {
  const { guest } = loaded;
  if (guest.kind === 'component') return instantiateComponent(guest, loaded.settings.restorable);
  return instantiateExtism(moduleId, (await loaded.larger?.module) ?? guest.module, loaded.settings);
}

/**
 * An instance that grew past its snapshot cannot be reset (the guest's allocator would
 * never use the grown pages again), so it is replaced, at a cost of milliseconds. Its
 * successors start with the memory it grew to: the allocator takes all of it when the
 * instance starts, the snapshot holds it, and later resets stay cheap while the
 * states stay that size.
 */
function startLarger(loaded: Loaded, memoryBytes: number): void {
  const { guest, settings } = loaded;
  if (guest.kind !== 'extism' || !guest.bytes || !settings.restorable || memoryBytes > settings.recycleBytes) return;
  const pages = memoryBytes / 65536;
  if (pages <= (loaded.larger?.pages ?? 0)) return;
  const module = WebAssembly.compile(rewriteModule(guest.bytes, { maxPages: MAX_PAGES, minPages: pages })).catch(() => guest.module);
  loaded.larger = { pages, module };
}

async function instantiateExtism(moduleId: number, module: WebAssembly.Module, settings: PluginSettings): Promise<GuestInstance> {
  let memory: WebAssembly.Memory | undefined;
  const currentMemory = () => memory!;
  const wasiImports = WebAssembly.Module.imports(module)
    .filter((entry) => entry.module === WASI_NAMESPACE)
    .map((entry) => entry.name);
  const logger = loggerFor(moduleId);
  const vars = guestVars(MAX_VAR_BYTES);
  const budget = new KernelBudget(settings.maxKernelBytes);
  const plugin = await createPlugin(
    { wasm: [{ module }] },
    {
      useWasi: false,
      logLevel: settings.logLevel,
      logger,
      functions: {
        [KERNEL_NAMESPACE]: { ...vars.functions, alloc: budget.alloc },
        [USER_NAMESPACE]: bulkCopyFunctions(currentMemory, budget),
        [WASI_NAMESPACE]: sandboxWasi(wasiImports, currentMemory, (stream, line) =>
          send({ type: 'log', moduleId, level: stream === 'stdout' ? 'info' : 'warn', message: line }),
        ),
      },
    },
  );
  const { exports } = await plugin.getInstance();
  const exported = exports.memory;
  if (!(exported instanceof WebAssembly.Memory)) {
    await plugin.close();
    throw new Error('the module exports no memory named "memory"');
  }
  memory = exported;
  const snapshot = settings.restorable ? InstanceSnapshot.take(exports, memory) : undefined;
  return extismInstance(plugin, exported, budget, () => {
    if (!snapshot?.restore()) return false;
    vars.clear();
    return true;
  });
}

function extismInstance(plugin: Plugin, memory: WebAssembly.Memory, budget: KernelBudget, reset: () => boolean): GuestInstance {
  return {
    reset,
    async call(name: string, input: GuestInput) {
      if (typeof input !== 'string') throw new TypeError('an Extism call takes one JSON text');
      budget.reset();
      try {
        const output = await plugin.call(name, input);
        return output === null ? null : { byteLength: output.bytes().byteLength, text: () => output.text() };
      } catch (error) {
        const text = error instanceof Error ? error.message : String(error);
        if (text.startsWith(GUEST_ERROR_PREFIX)) throw new GuestError(text.slice(GUEST_ERROR_PREFIX.length));
        throw error;
      }
    },
    get memoryBytes() {
      return memory.buffer.byteLength;
    },
    close: () => plugin.close(),
  };
}

async function discard(loaded: Loaded): Promise<void> {
  const instance = loaded.instance;
  loaded.instance = undefined;
  await instance?.close().catch(() => undefined);
}

/** Keeps an instance that no longer holds a state as the spare, when it can be put back as it was created; closes it otherwise. */
async function release(loaded: Loaded, instance: GuestInstance): Promise<void> {
  if (!loaded.spare && instance.reset?.()) {
    loaded.spare = instance;
    return;
  }
  startLarger(loaded, instance.memoryBytes);
  await instance.close().catch(() => undefined);
}

/** Drops the state a caller's resident instance holds. */
async function evict(loaded: Loaded, caller: string): Promise<void> {
  const instance = loaded.residents.get(caller);
  if (!instance) return;
  loaded.residents.delete(caller);
  await release(loaded, instance);
}

/** The instance for a classic call: any, put back as it was created when its last call was for another state. */
async function classicInstance(moduleId: number, loaded: Loaded, caller: string): Promise<GuestInstance> {
  if (loaded.instance && loaded.caller !== caller && !loaded.instance.reset?.()) {
    startLarger(loaded, loaded.instance.memoryBytes);
    await discard(loaded);
  }
  loaded.instance ??= await instantiate(moduleId, loaded);
  loaded.caller = caller;
  return loaded.instance;
}

/** The instance that holds, or is about to load, the caller's state: no other state ever reaches it. */
async function residentInstance(moduleId: number, loaded: Loaded, caller: string, load: string | undefined): Promise<GuestInstance> {
  if (load === undefined) {
    const instance = loaded.residents.get(caller);
    if (!instance) throw new Error(`no instance here holds the state of ${caller}`);
    return instance;
  }
  await evict(loaded, caller);
  const instance = loaded.spare ?? (await instantiate(moduleId, loaded));
  loaded.spare = undefined;
  loaded.residents.set(caller, instance);
  return instance;
}

async function unload(loaded: Loaded): Promise<void> {
  const instances = [loaded.instance, loaded.spare, ...loaded.residents.values()];
  loaded.instance = loaded.spare = undefined;
  loaded.residents.clear();
  await Promise.all(instances.map((instance) => instance?.close().catch(() => undefined)));
}

async function call(message: Extract<ToWorker, { type: 'call' }>): Promise<FromWorker> {
  const { callId, moduleId, name, input, caller, resident } = message;
  const loaded = modules.get(moduleId);
  if (!loaded) return { type: 'failed', callId, kind: 'trap', message: `module ${moduleId} is not loaded` };
  try {
    const instance = resident ? await residentInstance(moduleId, loaded, caller, resident.load) : await classicInstance(moduleId, loaded, caller);
    entryMark.enter(callId);
    if (resident?.load !== undefined) await instance.call(LOAD_EXPORT, resident.load);
    const output = await instance.call(name, input);
    const { maxOutputBytes, recycleBytes } = loaded.settings;
    const outputBytes = output?.byteLength ?? 0;
    if (outputBytes > maxOutputBytes) {
      if (resident) await evict(loaded, caller);
      const message = `${count(outputBytes)} bytes of output, more than the ${count(maxOutputBytes)} allowed (maxOutputBytes)`;
      return { type: 'failed', callId, kind: 'too-large', message };
    }
    const text = output === null ? null : output.text();
    if (instance.memoryBytes > recycleBytes) {
      if (resident) await evict(loaded, caller);
      else await discard(loaded);
    }
    const residentBytes = resident && loaded.residents.has(caller) ? instance.memoryBytes : undefined;
    return { type: 'done', callId, output: text, ...(residentBytes === undefined ? {} : { residentBytes }) };
  } catch (error) {
    if (resident) await dropResident(loaded, caller, error);
    if (error instanceof GuestError) return { type: 'failed', callId, kind: 'guest-error', message: error.message };
    const text = error instanceof Error ? error.message : String(error);
    if (!resident) await discard(loaded);
    return { type: 'failed', callId, kind: error instanceof WasiExit ? 'exit' : 'trap', message: text };
  }
}

/**
 * After a failed call, the caller's state in its resident instance may be half changed:
 * it is dropped (the host loads it again), and the instance kept as the spare only when the
 * guest failed on purpose; after a trap it is closed.
 */
async function dropResident(loaded: Loaded, caller: string, error: unknown): Promise<void> {
  const instance = loaded.residents.get(caller);
  if (!instance) return;
  loaded.residents.delete(caller);
  if (error instanceof GuestError) await release(loaded, instance);
  else await instance.close().catch(() => undefined);
}

let calls = Promise.resolve();

port.on('message', (message: ToWorker) => {
  switch (message.type) {
    case 'load':
      modules.set(message.moduleId, { guest: message.guest, settings: message.settings, residents: new Map() });
      break;
    case 'unload': {
      const loaded = modules.get(message.moduleId);
      modules.delete(message.moduleId);
      if (loaded) void unload(loaded);
      break;
    }
    case 'evict': {
      const loaded = modules.get(message.moduleId);
      if (loaded) for (const caller of message.callers) void evict(loaded, caller);
      break;
    }
    case 'call':
      // One call at a time, in the order sent: the pool may send the next before this one ends.
      calls = calls.then(() => call(message)).then(send);
      break;
  }
});
