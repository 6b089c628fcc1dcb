import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../logger.js';
import type {
  CompiledModule,
  ComponentModule,
  FailureKind,
  FromWorker,
  GuestInput,
  GuestModule,
  LogLevel,
  PluginSettings,
  ToWorker,
} from './worker-protocol.js';

/**
 * A guest call that did not return: `timeout` when the pool had to stop it, `closed`
 * when the pool closed first, `busy` when its topic already had too many calls waiting.
 */
export class GuestCallError extends Error {
  constructor(
    readonly kind: FailureKind | 'timeout' | 'closed' | 'busy',
    message: string,
  ) {
    super(message);
    this.name = 'GuestCallError';
  }
}

interface LoadedModule {
  guest: GuestModule;
  settings: PluginSettings;
  logger: Logger;
  /** Calls queued or running; a retired module is unloaded when this reaches 0. */
  pending: number;
  retired: boolean;
}

/** How one call is scheduled. */
export interface CallOptions {
  /** The call is stopped, and fails with `timeout`, when it runs longer. */
  timeoutMs: number;
  /**
   * The topic the call is for. A topic has at most one call running; topics with
   * waiting calls take turns, so one slow topic cannot hold every worker.
   */
  topic: string;
  /** A call that finds this many calls of its topic already waiting fails at once with `busy`. */
  maxWaiting: number;
  /**
   * Which state the call is for: an instance whose last call was for another is first
   * put back as it was created, so no state's calls see what another's left in its
   * memory, globals or Extism vars.
   */
  caller: string;
}

interface PendingCall extends CallOptions {
  moduleId: number;
  name: string;
  input: GuestInput;
  resolve(output: string | null): void;
  reject(error: GuestCallError): void;
}

/** A topic's calls: the waiting ones in order, and whether one is running. */
interface Lane {
  waiting: PendingCall[];
  running: boolean;
}

interface PoolWorker {
  worker: Worker;
  loaded: Set<number>;
  current?: { callId: number; call: PendingCall; timer: NodeJS.Timeout };
}

const WORKER_URL = new URL('./plugin-worker.js', import.meta.url);

/**
 * How long a call may take to start: a new worker, and an instance, whose creation runs
 * the module's start function. The call's own time limit counts from when the guest is
 * entered, so a slow start on a busy machine does not fail a quick handler.
 */
const STARTUP_LIMIT_MS = 30_000;

/**
 * Worker threads that run guest calls off the server's event loop. Each worker runs
 * one call at a time, so no instance ever sees two calls at once; a call that runs
 * past its time limit is stopped by terminating its worker, which is replaced, while
 * heartbeats and other topics carry on.
 *
 * Calls wait in one lane per topic. A topic runs one call at a time, and the lanes
 * with waiting calls take turns for free workers (round robin), so a topic whose
 * calls all run to the time limit holds at most one worker and delays no other
 * topic's calls behind its own.
 */
export class GuestPool {
  private static sharedPool: GuestPool | undefined;
  private readonly workers: PoolWorker[] = [];
  private readonly lanes = new Map<string, Lane>();
  /** The topics whose lanes have a call waiting and none running, in turn order. */
  private readonly turns: string[] = [];
  private readonly modules = new Map<number, LoadedModule>();
  private nextModuleId = 1;
  private nextCallId = 1;
  private closed = false;

  /** One pool for the process, created on first use: threads are too costly to have one per handler. */
  static shared(): GuestPool {
    GuestPool.sharedPool ??= new GuestPool();
    return GuestPool.sharedPool;
  }

  constructor(readonly size: number = Math.max(2, availableParallelism())) {}

  /**
   * Makes an Extism plugin's compiled module callable; returns its id for {@link call}.
   * Given the bytes it was compiled from, a worker whose instances outgrow their
   * snapshot compiles it again with that much initial memory, so that resets stay cheap.
   */
  load(module: CompiledModule, settings: PluginSettings, logger: Logger, bytes?: Uint8Array): number {
    return this.add({ kind: 'extism', module, ...(bytes ? { bytes } : {}) }, settings, logger);
  }

  /** Makes a transpiled WebAssembly Component callable; returns its id for {@link call}. */
  loadComponent(component: ComponentModule, settings: PluginSettings, logger: Logger): number {
    return this.add({ kind: 'component', ...component }, settings, logger);
  }

  /** Unloads a module once the calls already made on it are done. */
  retire(moduleId: number): void {
    const loaded = this.modules.get(moduleId);
    if (!loaded) return;
    loaded.retired = true;
    if (loaded.pending === 0) this.unload(moduleId);
  }

  call(moduleId: number, name: string, input: GuestInput, options: CallOptions): Promise<string | null> {
    const loaded = this.modules.get(moduleId);
    if (this.closed) return Promise.reject(new GuestCallError('closed', 'the guest pool is closed'));
    if (!loaded) return Promise.reject(new GuestCallError('closed', `module ${moduleId} is not loaded`));
    const lane = this.laneOf(options.topic);
    if (lane.waiting.length >= options.maxWaiting) {
      const count = lane.waiting.length;
      return Promise.reject(new GuestCallError('busy', `${count} ${count === 1 ? 'call' : 'calls'} of topic "${options.topic}" are already waiting`));
    }
    loaded.pending++;
    return new Promise<string | null>((resolve, reject) => {
      lane.waiting.push({ ...options, moduleId, name, input, resolve, reject });
      if (!lane.running && lane.waiting.length === 1) this.turns.push(options.topic);
      this.dispatch();
    });
  }

  /** Fails queued and running calls, clears their timers and ends the workers. */
  async close(): Promise<void> {
    this.closed = true;
    for (const lane of this.lanes.values()) {
      for (const call of lane.waiting.splice(0)) call.reject(new GuestCallError('closed', 'the guest pool is closed'));
    }
    this.lanes.clear();
    this.turns.length = 0;
    const workers = this.workers.splice(0);
    for (const entry of workers) {
      const current = entry.current;
      this.finish(entry);
      current?.call.reject(new GuestCallError('closed', 'the guest pool was closed while the call was running'));
    }
    await Promise.all(workers.map(({ worker }) => worker.terminate()));
    if (GuestPool.sharedPool === this) GuestPool.sharedPool = undefined;
  }

  private laneOf(topic: string): Lane {
    let lane = this.lanes.get(topic);
    if (!lane) {
      lane = { waiting: [], running: false };
      this.lanes.set(topic, lane);
    }
    return lane;
  }

  private add(guest: GuestModule, settings: PluginSettings, logger: Logger): number {
    const moduleId = this.nextModuleId++;
    this.modules.set(moduleId, { guest, settings, logger, pending: 0, retired: false });
    return moduleId;
  }

  private dispatch(): void {
    while (this.turns.length > 0) {
      const idle = this.workers.find((candidate) => !candidate.current) ?? this.spawn();
      if (!idle) return;
      const lane = this.lanes.get(this.turns.shift()!)!;
      lane.running = true;
      this.start(idle, lane.waiting.shift()!);
    }
  }

  /** Its topic's running call is over: the topic's next call waits for its turn behind the other topics'. */
  private endTurn(call: PendingCall): void {
    const lane = this.lanes.get(call.topic);
    if (!lane) return;
    lane.running = false;
    if (lane.waiting.length > 0) this.turns.push(call.topic);
    else this.lanes.delete(call.topic);
  }

  private spawn(): PoolWorker | undefined {
    if (this.workers.length >= this.size) return undefined;
    const worker = new Worker(WORKER_URL, { execArgv: ['--disable-warning=ExperimentalWarning'] });
    worker.unref();
    const entry: PoolWorker = { worker, loaded: new Set() };
    worker.on('message', (message: FromWorker) => this.receive(entry, message));
    worker.on('error', (error) => this.replace(entry, new GuestCallError('trap', `the guest worker failed: ${error.message}`)));
    worker.on('exit', () => this.replace(entry, new GuestCallError('trap', 'the guest worker exited')));
    this.workers.push(entry);
    return entry;
  }

  private start(entry: PoolWorker, call: PendingCall): void {
    const loaded = this.modules.get(call.moduleId)!;
    if (!entry.loaded.has(call.moduleId)) {
      this.post(entry, { type: 'load', moduleId: call.moduleId, guest: loaded.guest, settings: loaded.settings });
      entry.loaded.add(call.moduleId);
    }
    const callId = this.nextCallId++;
    const timer = setTimeout(() => {
      this.replace(entry, new GuestCallError('timeout', `the guest did not start within ${STARTUP_LIMIT_MS} ms (a worker and an instance) and was stopped`));
    }, STARTUP_LIMIT_MS);
    entry.current = { callId, call, timer };
    entry.worker.ref();
    this.post(entry, { type: 'call', callId, moduleId: call.moduleId, name: call.name, input: call.input, caller: call.caller });
  }

  private receive(entry: PoolWorker, message: FromWorker): void {
    if (message.type === 'log') {
      this.log(message.moduleId, message.level, message.message);
      return;
    }
    const current = entry.current;
    if (!current || current.callId !== message.callId) return;
    if (message.type === 'started') {
      clearTimeout(current.timer);
      const { timeoutMs } = current.call;
      current.timer = setTimeout(() => {
        this.replace(entry, new GuestCallError('timeout', `the handler did not finish within ${timeoutMs} ms and was stopped`));
      }, timeoutMs);
      return;
    }
    this.finish(entry);
    if (message.type === 'done') current.call.resolve(message.output);
    else current.call.reject(new GuestCallError(message.kind, message.message));
    this.settle(current.call);
    this.dispatch();
  }

  /** Ends a worker (a runaway call, or a crash), fails its call, and lets a fresh worker take over. */
  private replace(entry: PoolWorker, error: GuestCallError): void {
    const index = this.workers.indexOf(entry);
    if (index === -1) return;
    this.workers.splice(index, 1);
    const current = entry.current;
    this.finish(entry);
    void entry.worker.terminate();
    if (current) {
      current.call.reject(error);
      this.settle(current.call);
    }
    if (!this.closed) this.dispatch();
  }

  private finish(entry: PoolWorker): void {
    if (entry.current) clearTimeout(entry.current.timer);
    entry.current = undefined;
    entry.worker.unref();
  }

  private settle(call: PendingCall): void {
    this.endTurn(call);
    const loaded = this.modules.get(call.moduleId);
    if (loaded && --loaded.pending === 0 && loaded.retired) this.unload(call.moduleId);
  }

  private unload(moduleId: number): void {
    this.modules.delete(moduleId);
    for (const entry of this.workers) {
      if (entry.loaded.delete(moduleId)) this.post(entry, { type: 'unload', moduleId });
    }
  }

  private post(entry: PoolWorker, message: ToWorker): void {
    entry.worker.postMessage(message);
  }

  private log(moduleId: number, level: LogLevel, message: string): void {
    const logger = this.modules.get(moduleId)?.logger;
    if (!logger) return;
    if (level === 'error') logger.error(message);
    else if (level === 'warn') logger.warn(message);
    else logger.info(message);
  }
}
