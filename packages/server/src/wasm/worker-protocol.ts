/** Messages between the guest pool (main thread) and a plugin worker. */

/** The export a resident module loads a state with. */
export const LOAD_EXPORT = 'livestate_load';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';

export interface PluginSettings {
  /** Extism log level for guest log calls (and stdout/stderr through WASI). */
  logLevel: LogLevel;
  /** After a call, an instance whose linear memory is larger than this is discarded. */
  recycleBytes: number;
  /** A call whose output is longer fails with `too-large`. */
  maxOutputBytes: number;
  /** The most Extism kernel blocks (memory on the host's side) one call may allocate: the guest's memory cap. */
  maxKernelBytes: number;
  /**
   * The module exports its mutable globals (see the module rewriter), so an instance
   * can be put back as it was created; otherwise it is replaced.
   */
  restorable: boolean;
  /**
   * The module was rewritten with interrupt checks (see the module rewriter's `interruptible`),
   * so a watchdog can stop it on the server's own thread, where its resident calls may run.
   */
  interruptible: boolean;
}

/**
 * A compiled `WebAssembly.Module`. TypeScript declares the WebAssembly API only in the DOM
 * lib, so the published types look it up on `globalThis` and fall back to `object`: a
 * server-only project type-checks without the DOM lib.
 */
export type CompiledModule = typeof globalThis extends {
  WebAssembly: { Module: abstract new (...args: never) => infer Module };
}
  ? Module
  : object;

/** A WebAssembly Component, transpiled by jco into core modules and a JavaScript loader. */
export interface ComponentModule {
  /** The file URL of the loader: an ES module exporting jco's `instantiate(getCoreModule, imports)`. */
  loader: string;
  /** The component's core modules, compiled (and capped) by the server, by the file names the loader asks for. */
  cores: Record<string, CompiledModule>;
}

/** What a worker instantiates: an Extism plugin, or a component. */
export type GuestModule =
  /** `bytes`, the module as compiled, lets a worker compile it again with a larger initial memory. */
  | { kind: 'extism'; module: CompiledModule; bytes?: Uint8Array }
  | ({ kind: 'component' } & ComponentModule);

/** A call's input: JSON text for an Extism export; for a component, the JSON text of each argument. */
export type GuestInput = string | readonly string[];

export type ToWorker =
  | { type: 'load'; moduleId: number; guest: GuestModule; settings: PluginSettings }
  | { type: 'unload'; moduleId: number }
  | { type: 'call'; callId: number; moduleId: number; name: string; input: GuestInput; caller: string; resident?: ResidentCall }
  /** Drops the states these callers' resident instances hold. */
  | { type: 'evict'; moduleId: number; callers: string[] };

/**
 * A call to a resident module (one that exports `livestate_resident`), which keeps the
 * caller's state in an instance of its own between calls.
 */
export interface ResidentCall {
  /** The state's JSON text, for `livestate_load` before the event: set when the worker does not hold the state. */
  load?: string;
}

/**
 * - `guest-error`: the guest reported an error on purpose (Extism's `error_set`, a component's `err`); the instance is fine.
 * - `trap`: the guest trapped (including running out of its capped memory); the instance was discarded.
 * - `exit`: the guest called WASI `proc_exit`; the instance was discarded.
 * - `too-large`: the guest's output is longer than `maxOutputBytes`; the instance is fine.
 */
export type FailureKind = 'guest-error' | 'trap' | 'exit' | 'too-large';

export type FromWorker =
  /**
   * `residentBytes`: the memory of the resident instance that now holds the caller's state, if
   * one does; `guestMs`: how long the call ran from entering the guest, measured in the worker.
   */
  | { type: 'done'; callId: number; output: string | null; residentBytes?: number; guestMs: number }
  | { type: 'failed'; callId: number; kind: FailureKind; message: string; guestMs: number }
  | { type: 'log'; moduleId: number; level: LogLevel; message: string };
