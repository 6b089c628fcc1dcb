/** Messages between the guest pool (main thread) and a plugin worker. */

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';

export interface PluginSettings {
  /** Extism log level for guest log calls (and stdout/stderr through WASI). */
  logLevel: LogLevel;
  /** After a call, an instance whose linear memory is larger than this is discarded. */
  recycleBytes: number;
  /** A call whose output is longer fails with `too-large`. */
  maxOutputBytes: number;
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

export type ToWorker =
  | { type: 'load'; moduleId: number; module: CompiledModule; settings: PluginSettings }
  | { type: 'unload'; moduleId: number }
  | { type: 'call'; callId: number; moduleId: number; name: string; input: string };

/**
 * - `guest-error`: the guest reported an error with `error_set`; the instance is fine.
 * - `trap`: the guest trapped (including running out of its capped memory); the instance was discarded.
 * - `exit`: the guest called WASI `proc_exit`; the instance was discarded.
 * - `too-large`: the guest's output is longer than `maxOutputBytes`; the instance is fine.
 */
export type FailureKind = 'guest-error' | 'trap' | 'exit' | 'too-large';

export type FromWorker =
  | { type: 'done'; callId: number; output: string | null }
  | { type: 'failed'; callId: number; kind: FailureKind; message: string }
  | { type: 'log'; moduleId: number; level: LogLevel; message: string };
