import createPlugin, { type Plugin } from '@extism/extism';
import { parentPort } from 'node:worker_threads';
import { bulkCopyFunctions, USER_NAMESPACE } from './bulk-copy.js';
import { sandboxWasi, WASI_NAMESPACE, WasiExit } from './sandbox-wasi.js';
import type { FromWorker, LogLevel, PluginSettings, ToWorker } from './worker-protocol.js';

/*
 * A worker thread that runs guest calls, one at a time, on in-process Extism
 * plugins. The pool ends a runaway call by terminating this thread, which is
 * why guests run here and not on the server's event loop.
 */

interface Loaded {
  module: WebAssembly.Module;
  settings: PluginSettings;
  instance?: { plugin: Plugin; memory: WebAssembly.Memory };
}

const port = parentPort!;
const modules = new Map<number, Loaded>();
const GUEST_ERROR_PREFIX = 'Plugin-originated error: ';
const send = (message: FromWorker) => port.postMessage(message);
const count = (value: number) => value.toLocaleString('en-US');

function loggerFor(moduleId: number): Console {
  const log = (level: LogLevel) => (...parts: unknown[]) => send({ type: 'log', moduleId, level, message: parts.map(String).join(' ') });
  return { trace: log('trace'), debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') } as unknown as Console;
}

async function instantiate(moduleId: number, loaded: Loaded): Promise<NonNullable<Loaded['instance']>> {
  let memory: WebAssembly.Memory | undefined;
  const currentMemory = () => memory!;
  const wasiImports = WebAssembly.Module.imports(loaded.module)
    .filter((entry) => entry.module === WASI_NAMESPACE)
    .map((entry) => entry.name);
  const logger = loggerFor(moduleId);
  const plugin = await createPlugin(
    { wasm: [{ module: loaded.module }] },
    {
      useWasi: false,
      logLevel: loaded.settings.logLevel,
      logger,
      functions: {
        [USER_NAMESPACE]: bulkCopyFunctions(currentMemory),
        [WASI_NAMESPACE]: sandboxWasi(wasiImports, currentMemory, (stream, line) =>
          send({ type: 'log', moduleId, level: stream === 'stdout' ? 'info' : 'warn', message: line }),
        ),
      },
    },
  );
  const exported = (await plugin.getInstance()).exports.memory;
  if (!(exported instanceof WebAssembly.Memory)) {
    await plugin.close();
    throw new Error('the module exports no memory named "memory"');
  }
  memory = exported;
  return { plugin, memory };
}

async function discard(loaded: Loaded): Promise<void> {
  const instance = loaded.instance;
  loaded.instance = undefined;
  await instance?.plugin.close().catch(() => undefined);
}

async function call(message: Extract<ToWorker, { type: 'call' }>): Promise<FromWorker> {
  const { callId, moduleId, name, input } = message;
  const loaded = modules.get(moduleId);
  if (!loaded) return { type: 'failed', callId, kind: 'trap', message: `module ${moduleId} is not loaded` };
  try {
    loaded.instance ??= await instantiate(moduleId, loaded);
    const output = await loaded.instance.plugin.call(name, input);
    const { maxOutputBytes, recycleBytes } = loaded.settings;
    const outputBytes = output?.bytes().byteLength ?? 0;
    const tooLarge = outputBytes > maxOutputBytes;
    const text = output === null || tooLarge ? null : output.text();
    if (loaded.instance.memory.buffer.byteLength > recycleBytes) await discard(loaded);
    if (tooLarge) {
      const message = `${count(outputBytes)} bytes of output, more than the ${count(maxOutputBytes)} allowed (maxOutputBytes)`;
      return { type: 'failed', callId, kind: 'too-large', message };
    }
    return { type: 'done', callId, output: text };
  } catch (error) {
    const text = error instanceof Error ? error.message : String(error);
    if (text.startsWith(GUEST_ERROR_PREFIX)) {
      return { type: 'failed', callId, kind: 'guest-error', message: text.slice(GUEST_ERROR_PREFIX.length) };
    }
    await discard(loaded);
    return { type: 'failed', callId, kind: error instanceof WasiExit ? 'exit' : 'trap', message: text };
  }
}

port.on('message', (message: ToWorker) => {
  switch (message.type) {
    case 'load':
      modules.set(message.moduleId, { module: message.module, settings: message.settings });
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
