import createPlugin, { type Plugin } from '@extism/extism';
import { parentPort } from 'node:worker_threads';
import { bulkCopyFunctions, USER_NAMESPACE } from './bulk-copy.js';
import { guestVars } from './guest-vars.js';
import { InstanceSnapshot } from './instance-snapshot.js';
import { KernelBudget } from './kernel-budget.js';
import { rewriteModule } from './module-rewriter.js';
import { sandboxWasi, WASI_NAMESPACE, WasiExit } from './sandbox-wasi.js';
import { instantiateComponent } from './component-instance.js';
import { GuestError, type GuestInstance } from './guest-instance.js';
import type { FromWorker, GuestInput, GuestModule, LogLevel, PluginSettings, ToWorker } from './worker-protocol.js';

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
}

const port = parentPort!;
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

async function call(message: Extract<ToWorker, { type: 'call' }>): Promise<FromWorker> {
  const { callId, moduleId, name, input, caller } = message;
  const loaded = modules.get(moduleId);
  if (!loaded) return { type: 'failed', callId, kind: 'trap', message: `module ${moduleId} is not loaded` };
  try {
    if (loaded.instance && loaded.caller !== caller && !loaded.instance.reset?.()) {
      startLarger(loaded, loaded.instance.memoryBytes);
      await discard(loaded);
    }
    loaded.instance ??= await instantiate(moduleId, loaded);
    loaded.caller = caller;
    send({ type: 'started', callId });
    const output = await loaded.instance.call(name, input);
    const { maxOutputBytes, recycleBytes } = loaded.settings;
    const outputBytes = output?.byteLength ?? 0;
    const tooLarge = outputBytes > maxOutputBytes;
    const text = output === null || tooLarge ? null : output.text();
    if (loaded.instance.memoryBytes > recycleBytes) await discard(loaded);
    if (tooLarge) {
      const message = `${count(outputBytes)} bytes of output, more than the ${count(maxOutputBytes)} allowed (maxOutputBytes)`;
      return { type: 'failed', callId, kind: 'too-large', message };
    }
    return { type: 'done', callId, output: text };
  } catch (error) {
    if (error instanceof GuestError) return { type: 'failed', callId, kind: 'guest-error', message: error.message };
    const text = error instanceof Error ? error.message : String(error);
    await discard(loaded);
    return { type: 'failed', callId, kind: error instanceof WasiExit ? 'exit' : 'trap', message: text };
  }
}

port.on('message', (message: ToWorker) => {
  switch (message.type) {
    case 'load':
      modules.set(message.moduleId, { guest: message.guest, settings: message.settings });
      break;
    case 'unload': {
      const loaded = modules.get(message.moduleId);
      modules.delete(message.moduleId);
      if (loaded) void discard(loaded);
      break;
    }
    case 'call':
      void call(message).then(send);
      break;
  }
});
