import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { ownTimeLimit, Reply, UnknownEventError, UserError, type EventContext, type LiveStateHandler, type ReplyEvent, type State } from '../handler.js';
import { consoleLogger, type Logger } from '../logger.js';
import { isJsonObject, memberOf, type JsonObject } from '../state/json.js';
import { PatchReply } from '../state/patch-reply.js';
import type { Payload } from '../transport/serializer.js';
import { COMPONENT_EVENTS_CALL } from './component-instance.js';
import { handlerFile, isComponent, loadComponent } from './component-loader.js';
import { GuestCallError, GuestPool, type CallOptions } from './guest-pool.js';
import { rewriteModule, UnexposableGlobalError, UninterruptibleModuleError, type RewriteOptions } from './module-rewriter.js';
import { StateLineage } from './state-lineage.js';
import { WASI_MODULES, WASI_NAMESPACE } from './sandbox-wasi.js';
import { envelopeStateText, StateTexts } from './state-texts.js';
import { LOAD_EXPORT, type GuestInput, type LogLevel, type PluginSettings } from './worker-protocol.js';

export interface WasmHandlerOptions {
  /** A call that runs longer is stopped and the event fails. Default 1,000 ms. */
  timeoutMs?: number;
  /** The most linear memory a guest instance may have, whatever its module declares. Default 128 MiB. */
  maxMemoryMiB?: number;
  /** After a call, an instance that grew past this is replaced by a fresh one. Default half of `maxMemoryMiB`. */
  recycleMemoryMiB?: number;
  /** A call whose output (the new state, with reply events) is longer fails, changing nothing. Default 8 MiB. */
  maxOutputBytes?: number;
  /** Reload the module when its file changes; states are kept. Default true. */
  watch?: boolean;
  /** Guest log calls at or above this level reach the logger. Default `info`. */
  logLevel?: LogLevel;
  logger?: Logger;
  /** The worker threads to run calls on. Default: one pool shared by the process. */
  pool?: GuestPool;
  /**
   * A topic runs one call at a time; an event that finds this many calls of its topic
   * already waiting fails at once with a "busy" error. Default 32.
   */
  maxWaitingCalls?: number;
}

/**
 * Exports that are not events: the initial state, our own `livestate_*` exports (the
 * envelope opt-in), and what toolchains export for themselves (WASI start functions,
 * runtime helpers).
 */
const NOT_EVENTS = new Set(['init', 'memory', '_start', '_initialize']);
const isEventExport = (entry: WebAssembly.ModuleExportDescriptor) =>
  entry.kind === 'function' && !NOT_EVENTS.has(entry.name) && !entry.name.startsWith('__') && !entry.name.startsWith('livestate_');

const DEFAULT_MAX_MEMORY_MIB = 128;
const DEFAULT_MAX_OUTPUT_BYTES = 8 * 1024 * 1024;

const FAILURE_VERBS: Record<Exclude<GuestCallError['kind'], 'guest-error'>, string> = {
  timeout: 'timed out',
  busy: 'is busy',
  'too-large': 'returned too much',
  trap: 'failed',
  exit: 'failed',
  closed: 'failed',
};

interface CompiledModule {
  moduleId: number;
  events: ReadonlySet<string>;
  hasInit: boolean;
  /** The module returns `{state, events}` from events: it exports `livestate_envelope`, or is a component. */
  envelope: boolean;
  logger: Logger;
  /** It returned the envelope shape without exporting `livestate_envelope`, and was warned about it. */
  warnedStrayEnvelope?: boolean;
  /** A component takes an event's payload and state as two JSON texts, not one `[payload, state]`. */
  component: boolean;
  /** The module keeps each state in an instance of its own and returns patches: it exports `livestate_resident`. */
  resident: boolean;
}

/**
 * The limit for the call that lists a component's events when it is loaded. That call
 * also creates the first instance (a few milliseconds, far more on a busy machine), which
 * no event should be failed for.
 */
const COMPONENT_LOAD_TIMEOUT_MS = 30_000;

/**
 * Loads a module as a LiveState handler (`path` may also be the folder livestate-guest-js
 * wrote a component into); refuses, with the reason, a file that is not a usable module.
 */
export async function wasmHandler(path: string, options: WasmHandlerOptions = {}): Promise<WasmHandler> {
  const handler = new WasmHandler(await handlerFile(resolve(path)), options);
  await handler.load();
  if (options.watch ?? true) handler.watch();
  return handler;
}

/**
 * A LiveState handler whose events are exports of a WebAssembly module, in the
 * calling convention of the original LiveState Extism experiment: `init` returns the
 * initial state and each event export takes `[payload, state]` and returns the new
 * state, all JSON text. A WebAssembly Component of the `livestate:handler` world
 * (built by `livestate-guest-js`) is recognized by its header and runs the same way.
 */
export class WasmHandler implements LiveStateHandler {
  /** Its calls stop at `timeoutMs` in the worker, so the server adds no limit of its own. */
  readonly [ownTimeLimit] = true as const;
  private compiled: CompiledModule | undefined;
  private watcher: FSWatcher | undefined;
  private reloadTimer: NodeJS.Timeout | undefined;
  private readonly pool: GuestPool;
  private readonly logger: Logger;
  private readonly timeoutMs: number;
  private readonly maxPages: number;
  private readonly maxWaiting: number;
  private readonly lineage = new StateLineage();
  private readonly stateTexts = new StateTexts();

  constructor(
    readonly path: string,
    private readonly options: WasmHandlerOptions,
  ) {
    this.pool = options.pool ?? GuestPool.shared();
    this.logger = options.logger ?? consoleLogger;
    this.timeoutMs = options.timeoutMs ?? 1000;
    this.maxPages = (options.maxMemoryMiB ?? DEFAULT_MAX_MEMORY_MIB) * 16;
    this.maxWaiting = options.maxWaitingCalls ?? 32;
  }

  /** The events the module handles: its function exports other than `init` and toolchain exports. */
  get events(): ReadonlySet<string> {
    return this.compiled?.events ?? new Set();
  }

  /** Reads, caps and compiles the module file, then makes it the one new calls use. */
  async load(): Promise<void> {
    const bytes = await readFile(this.path);
    const compiled = isComponent(bytes) ? await this.compileComponent(bytes) : await this.compileModule(bytes);
    const previous = this.compiled;
    this.compiled = compiled;
    if (previous) this.pool.retire(previous.moduleId);
  }

  private async compileModule(bytes: Buffer): Promise<CompiledModule> {
    const logger = this.guestLogger();
    const { rewritten, restorable } = this.rewrite(bytes, logger);
    let module: WebAssembly.Module;
    try {
      module = await WebAssembly.compile(rewritten);
    } catch (error) {
      throw new Error(`${this.path} is not a valid WebAssembly module: ${(error as Error).message}`);
    }
    const exports = WebAssembly.Module.exports(module);
    if (!exports.some((entry) => entry.kind === 'memory' && entry.name === 'memory')) {
      throw new Error(`${this.path} exports no memory named "memory": it is not an Extism plugin`);
    }
    const exported = (name: string) => exports.some((entry) => entry.kind === 'function' && entry.name === name);
    const hasInit = exported('init');
    if (!hasInit) logger.warn('exports no "init" function: every join will get an error instead of a state');
    const resident = exported('livestate_resident');
    if (resident && !exported(LOAD_EXPORT)) throw new Error(`${this.path} exports livestate_resident but no ${LOAD_EXPORT} function to load a state with`);
    const interruptible = resident ? await this.interruptible(bytes, restorable, logger) : undefined;
    const loaded = interruptible ?? { module, rewritten };
    return {
      moduleId: this.pool.load(loaded.module, this.settings(restorable, interruptible !== undefined), logger, loaded.rewritten),
      events: new Set(exports.filter(isEventExport).map((entry) => entry.name)),
      hasInit,
      envelope: exports.some((entry) => entry.name === 'livestate_envelope'),
      logger,
      component: false,
      resident,
    };
  }

  /** Loads a component and asks it for its events, which also proves that it instantiates. */
  private async compileComponent(bytes: Buffer): Promise<CompiledModule> {
    const logger = this.guestLogger();
    const { component, restorable } = await loadComponent(this.path, bytes, (core) => this.rewrite(core, logger));
    const moduleId = this.pool.loadComponent(component, this.settings(restorable), logger);
    const compiled = { moduleId, events: new Set<string>(), hasInit: true, envelope: true, logger, component: true, resident: false };
    try {
      const output = await this.call(compiled, COMPONENT_EVENTS_CALL, '', this.path, this.lineage.start(), COMPONENT_LOAD_TIMEOUT_MS);
      const events: unknown = this.parse(output, COMPONENT_EVENTS_CALL);
      if (!Array.isArray(events) || !events.every((event) => typeof event === 'string')) throw new Error('its events are not a list of names');
      return { ...compiled, events: new Set(events) };
    } catch (error) {
      this.pool.retire(moduleId);
      throw new Error(`${this.path} is not a usable handler component: ${(error as Error).message}`);
    }
  }

  /**
   * A resident module again, with interrupt checks, so that its small calls can run on the
   * server's own thread; `undefined` (it runs on worker threads only) for a module the
   * rewriter cannot instrument.
   */
  private async interruptible(bytes: Uint8Array, restorable: boolean, logger: Logger): Promise<{ module: WebAssembly.Module; rewritten: Uint8Array } | undefined> {
    try {
      const rewritten = rewriteModule(bytes, { ...this.rewriteOptions(), exposeMutableGlobals: restorable, interruptible: true });
      return { module: await WebAssembly.compile(rewritten), rewritten };
    } catch (error) {
      if (!(error instanceof UninterruptibleModuleError)) throw error;
      logger.info(`${error.message}: its calls run on worker threads only`);
      return undefined;
    }
  }

  private settings(restorable: boolean, interruptible = false): PluginSettings {
    const recycleMiB = this.options.recycleMemoryMiB ?? this.maxPages / 32;
    return {
      logLevel: this.options.logLevel ?? 'info',
      recycleBytes: recycleMiB * 1024 * 1024,
      maxOutputBytes: this.options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES,
      maxKernelBytes: this.maxPages * 64 * 1024,
      restorable,
      interruptible,
    };
  }

  /**
   * Caps the module's memory and points its WASI imports at our sandbox, and exports its
   * mutable globals so that an instance can be put back as it was created between
   * states; a module whose globals cannot be exported gets a fresh instance instead.
   */
  private rewrite(bytes: Uint8Array, logger: Logger): { rewritten: Uint8Array; restorable: boolean } {
    const options = this.rewriteOptions();
    try {
      return { rewritten: rewriteModule(bytes, { ...options, exposeMutableGlobals: true }), restorable: true };
    } catch (error) {
      if (!(error instanceof UnexposableGlobalError)) throw error;
      logger.warn(`${error.message}: each call for another topic or connection gets a fresh instance, which is slower`);
      return { rewritten: rewriteModule(bytes, options), restorable: false };
    }
  }

  private rewriteOptions(): RewriteOptions {
    return { maxPages: this.maxPages, renameImports: Object.fromEntries(WASI_MODULES.map((name) => [name, WASI_NAMESPACE])) };
  }

  private guestLogger(): Logger {
    return prefixed(this.logger, `[${basename(this.path)}] `);
  }

  /** Reloads the module when its file is written; a module that fails to load leaves the old one in place. */
  watch(): void {
    if (this.watcher) return;
    this.watcher = watch(dirname(this.path), (_event, filename) => {
      if (filename !== basename(this.path)) return;
      clearTimeout(this.reloadTimer);
      this.reloadTimer = setTimeout(() => void this.reload(), 50);
    });
    this.watcher.unref();
  }

  close(): void {
    this.watcher?.close();
    this.watcher = undefined;
    clearTimeout(this.reloadTimer);
    if (this.compiled) this.pool.retire(this.compiled.moduleId);
    this.compiled = undefined;
  }

  async init(topic: string, params: Payload): Promise<State> {
    const compiled = this.current();
    if (!compiled.hasInit) throw new Error(`${basename(this.path)} exports no "init" function`);
    const line = this.lineage.start();
    const output = await this.call(compiled, 'init', JSON.stringify(params), topic, line);
    const state = this.parse(output, 'init');
    this.lineage.extend(line, state);
    this.stateTexts.remember(state, output!);
    return state as State;
  }

  async handleEvent(name: string, payload: Payload, state: State, context: EventContext): Promise<State | Reply> {
    const compiled = this.current();
    if (!compiled.events.has(name)) throw new UnknownEventError(name);
    const payloadText = JSON.stringify(payload) ?? 'null';
    if (compiled.resident) return this.residentEvent(compiled, name, payloadText, state, context.topic);
    const stateText = this.stateTexts.textOf(state);
    const input: GuestInput = compiled.component ? [payloadText, stateText] : `[${payloadText},${stateText}]`;
    const line = this.lineage.of(state);
    const text = await this.call(compiled, name, input, context.topic, line);
    const output = this.parse(text, name);
    if (compiled.envelope) {
      const reply = openEnvelope(output, name);
      this.lineage.extend(line, reply.state);
      this.stateTexts.remember(reply.state, envelopeStateText(text!, output as object));
      return reply;
    }
    this.lineage.extend(line, output);
    if (!compiled.warnedStrayEnvelope && looksLikeEnvelope(output)) {
      compiled.warnedStrayEnvelope = true;
      compiled.logger.warn(
        `"${name}" returned {"state", "events"} but the module does not export livestate_envelope, ` +
          'so the whole object became the state and no reply events were sent: export livestate_envelope to opt in',
      );
    }
    this.stateTexts.remember(output, text!);
    return output as State;
  }

  /**
   * An event for a resident module: only the payload goes in, a patch comes out, which the
   * server applies to its copy of the state in place. The state's text is sent only when
   * the worker does not hold the state (its first event, or after a failure, a reload, an
   * eviction); a patch the server refuses makes the worker drop what the guest changed.
   */
  private async residentEvent(compiled: CompiledModule, name: string, payloadText: string, state: State, topic: string): Promise<PatchReply> {
    const line = this.lineage.of(state);
    this.stateTexts.forget(state);
    const text = await this.call(compiled, name, payloadText, topic, line, this.timeoutMs, { stateText: () => JSON.stringify(state) });
    const settle = (next: State | undefined) => {
      if (next) this.lineage.extend(line, next);
      else this.pool.forget(compiled.moduleId, line);
    };
    try {
      const output = this.parse(text, name);
      const patch = isJsonObject(output) ? memberOf(output, 'patch') : undefined;
      if (patch === undefined) {
        throw new UserError(`the handler for "${name}" exports livestate_resident but returned no {"patch": [...], "events": [...]}`);
      }
      const events = memberOf(output as JsonObject, 'events') ?? [];
      if (!Array.isArray(events)) throw new UserError(`the handler for "${name}" returned "events" that is not an array`);
      return new PatchReply(state, events as unknown as ReplyEvent[], patch, settle);
    } catch (error) {
      settle(undefined);
      throw error;
    }
  }

  private async reload(): Promise<void> {
    try {
      await this.load();
      this.logger.info(`reloaded ${this.path}`);
    } catch (error) {
      this.logger.error(`kept the previous module: reloading ${this.path} failed: ${(error as Error).message}`);
    }
  }

  private current(): CompiledModule {
    if (!this.compiled) throw new Error(`${basename(this.path)} is closed`);
    return this.compiled;
  }

  /** Runs a call in its topic's turn, on an instance that has seen no other state's calls since it was reset. */
  private async call(
    compiled: CompiledModule,
    name: string,
    input: GuestInput,
    topic: string,
    caller: string,
    timeoutMs = this.timeoutMs,
    resident?: CallOptions['resident'],
  ): Promise<string | null> {
    try {
      const options: CallOptions = { topic, caller, timeoutMs, maxWaiting: this.maxWaiting, ...(resident ? { resident } : {}) };
      return await this.pool.call(compiled.moduleId, name, input, options);
    } catch (error) {
      if (!(error instanceof GuestCallError)) throw error;
      // A domain error reported with error_set is the handler's message to the user, verbatim.
      if (error.kind === 'guest-error') throw new UserError(error.message);
      throw new UserError(`the handler for "${name}" ${FAILURE_VERBS[error.kind]}: ${error.message}`);
    }
  }

  private parse(output: string | null, name: string): unknown {
    if (output === null) throw new UserError(`the handler for "${name}" set no output`);
    try {
      return JSON.parse(output);
    } catch (error) {
      throw new UserError(`the handler for "${name}" returned invalid JSON: ${(error as Error).message}`);
    }
  }
}

/** Exactly the keys of the envelope, with an array of events: what a module that forgot to opt in returns. */
function looksLikeEnvelope(output: unknown): boolean {
  if (typeof output !== 'object' || output === null || Array.isArray(output)) return false;
  const keys = Object.keys(output);
  return keys.length === 2 && 'state' in output && 'events' in output && Array.isArray(output.events);
}

function openEnvelope(output: unknown, name: string): Reply {
  const envelope = output as { state?: unknown; events?: unknown };
  if (typeof envelope !== 'object' || envelope === null || !('state' in envelope)) {
    throw new UserError(`the handler for "${name}" exports livestate_envelope but returned no {"state": ..., "events": [...]}`);
  }
  const events = envelope.events ?? [];
  if (!Array.isArray(events)) throw new UserError(`the handler for "${name}" returned "events" that is not an array`);
  return new Reply(envelope.state as State, events as ReplyEvent[]);
}

function prefixed(logger: Logger, prefix: string): Logger {
  return {
    info: (message) => logger.info(prefix + message),
    warn: (message) => logger.warn(prefix + message),
    error: (message) => logger.error(prefix + message),
  };
}

