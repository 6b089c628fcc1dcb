import createPlugin, { type Plugin } from '@extism/extism';
import { bulkCopyFunctions, USER_NAMESPACE } from './bulk-copy.js';
import { GuestError, type GuestInstance } from './guest-instance.js';
import { guestVars } from './guest-vars.js';
import { InstanceSnapshot } from './instance-snapshot.js';
import { KernelBudget } from './kernel-budget.js';
import { sandboxWasi, WASI_NAMESPACE } from './sandbox-wasi.js';
import type { GuestInput, LogLevel, PluginSettings } from './worker-protocol.js';

/** Where a guest's log lines go. */
export type GuestLog = (level: LogLevel, message: string) => void;

const GUEST_ERROR_PREFIX = 'Plugin-originated error: ';
const KERNEL_NAMESPACE = 'extism:host/env';
const MAX_VAR_BYTES = 1024 * 1024;
/** The memory the module rewriter adds with `interruptible`, holding the interrupt flag. */
const INTERRUPT_EXPORT = 'livestate_interrupt';

/** The SDK logs through a console; this one sends each line to `log` at its level. */
function consoleFor(log: GuestLog): Console {
  const at = (level: LogLevel) => (...parts: unknown[]) => log(level, parts.map(String).join(' '));
  return { trace: at('trace'), debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } as unknown as Console;
}

/**
 * Instantiates an Extism plugin of a rewritten module, in process, with the server's kernel
 * functions (vars, a bounded alloc), the bulk-copy fast path and the sandboxed WASI; guest
 * logs and output go to `log`.
 */
export async function instantiateExtism(module: WebAssembly.Module, settings: PluginSettings, log: GuestLog): Promise<GuestInstance> {
  let memory: WebAssembly.Memory | undefined;
  const currentMemory = () => memory!;
  const wasiImports = WebAssembly.Module.imports(module)
    .filter((entry) => entry.module === WASI_NAMESPACE)
    .map((entry) => entry.name);
  const logger = consoleFor(log);
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
        [WASI_NAMESPACE]: sandboxWasi(wasiImports, currentMemory, (stream, line) => log(stream === 'stdout' ? 'info' : 'warn', line)),
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
  const interrupt = exports[INTERRUPT_EXPORT];
  const reset = () => {
    if (!snapshot?.restore()) return false;
    vars.clear();
    return true;
  };
  return extismInstance(plugin, exported, budget, reset, interrupt instanceof WebAssembly.Memory && interrupt.buffer instanceof SharedArrayBuffer ? interrupt.buffer : undefined);
}

function extismInstance(
  plugin: Plugin,
  memory: WebAssembly.Memory,
  budget: KernelBudget,
  reset: () => boolean,
  interruptFlag: SharedArrayBuffer | undefined,
): GuestInstance {
  return {
    reset,
    ...(interruptFlag ? { interruptFlag } : {}),
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
