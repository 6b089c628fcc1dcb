import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../logger.js';
import { EntryMark } from './entry-mark.js';
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
  /**
   * Set for a call to a resident module: the worker keeps the caller's state in an instance
   * of its own, and the call carries the state's text only when that worker does not hold it.
   */
  resident?: { stateText(): string };
}

export interface GuestPoolOptions {
  /**
   * The memory a worker's resident instances may hold together; past it, the states used
   * least recently are dropped (and loaded again by their next call). Default 256 MiB.
   */
  residentMiB?: number;
}

interface PendingCall extends CallOptions {
  moduleId: number;
  name: string;
  input: GuestInput;
  /** How many times a free worker passed it by because another worker holds its state. */
  passes: number;
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
  entryMark: EntryMark;
  loaded: Set<number>;
  current?: { callId: number; call: PendingCall; timer: NodeJS.Timeout };
  /** The states its resident instances hold, by {@link residentKey}, with their memory, least recently used first. */
  residents: Map<string, number>;
  residentBytes: number;
}

const residentKey = (moduleId: number, caller: string) => `${moduleId} ${caller}`;

/**
 * A call whose state another worker holds waits for that worker, rather than loading its
 * state on a free one, until free workers have passed it by this many times.
 */
const MAX_PASSES = 4;

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

  private readonly residentBytes: number;

  /** `size`: the worker threads, by default the machine's parallelism (at least 2). */
  constructor(
    readonly size: number = Math.max(2, availableParallelism()),
    { residentMiB = 256 }: GuestPoolOptions = {},
  ) {
    this.residentBytes = residentMiB * 1024 * 1024;
  }

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
      lane.waiting.push({ ...options, moduleId, name, input, passes: 0, resolve, reject });
      if (!lane.running && lane.waiting.length === 1) this.turns.push(options.topic);
      this.dispatch();
    });
  }

  /**
   * Drops a caller's state from the worker that holds it: the host's copy moved on without
   * it (a change the guest made was refused), so its next call loads the state again.
   */
  forget(moduleId: number, caller: string): void {
    const key = residentKey(moduleId, caller);
    for (const entry of this.workers) this.evict(entry, key, moduleId, caller);
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
      const choice = this.choose();
      if (!choice) return;
      const [topic] = this.turns.splice(choice.turn, 1);
      const lane = this.lanes.get(topic!)!;
      lane.running = true;
      this.start(choice.entry, lane.waiting.shift()!);
    }
  }

  /**
   * The next call to start and its worker: the first in turn order whose state is held by a
   * free worker, or held by no one (any free worker), or that free workers have passed by
   * {@link MAX_PASSES} times while its worker was busy (it then loads its state elsewhere).
   */
  private choose(): { entry: PoolWorker; turn: number } | undefined {
    const free = this.workers.find((candidate) => !candidate.current) ?? this.spawn();
    if (!free) return undefined;
    for (let turn = 0; turn < this.turns.length; turn++) {
      const call = this.lanes.get(this.turns[turn]!)!.waiting[0]!;
      const holder = call.resident && this.workers.find((entry) => entry.residents.has(residentKey(call.moduleId, call.caller)));
      if (!holder) return { entry: free, turn };
      if (!holder.current) return { entry: holder, turn };
      if (++call.passes > MAX_PASSES) return { entry: free, turn };
    }
    return undefined;
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
    const entryMark = new EntryMark();
    const worker = new Worker(WORKER_URL, { execArgv: ['--disable-warning=ExperimentalWarning'], workerData: { entryMark: entryMark.buffer } });
    worker.unref();
    const entry: PoolWorker = { worker, entryMark, loaded: new Set(), residents: new Map(), residentBytes: 0 };
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
    const timer = setTimeout(() => this.checkTime(entry, callId, performance.now()), call.timeoutMs);
    entry.current = { callId, call, timer };
    entry.worker.ref();
    const { moduleId, name, input, caller } = call;
    const resident = call.resident && (entry.residents.has(residentKey(moduleId, caller)) ? {} : { load: call.resident.stateText() });
    this.post(entry, { type: 'call', callId, moduleId, name, input, caller, ...(resident ? { resident } : {}) });
  }

  private receive(entry: PoolWorker, message: FromWorker): void {
    if (message.type === 'log') {
      this.log(message.moduleId, message.level, message.message);
      return;
    }
    const current = entry.current;
    if (!current || current.callId !== message.callId) return;
    this.finish(entry);
    if (current.call.resident) this.holds(entry, current.call, message.type === 'done' ? message.residentBytes : undefined);
    if (message.type === 'done') current.call.resolve(message.output);
    else current.call.reject(new GuestCallError(message.kind, message.message));
    this.settle(current.call);
    this.dispatch();
  }

  /**
   * Stops a call that has run in the guest for its time limit, or that has not entered the
   * guest within {@link STARTUP_LIMIT_MS} of being sent; otherwise looks again when the
   * earlier of the two could next be reached.
   */
  private checkTime(entry: PoolWorker, callId: number, sentAt: number): void {
    const current = entry.current;
    if (current?.callId !== callId) return;
    const { timeoutMs } = current.call;
    const elapsed = entry.entryMark.elapsed(callId);
    const waited = performance.now() - sentAt;
    if (elapsed === undefined && waited >= STARTUP_LIMIT_MS) {
      const message = `the guest did not start within ${STARTUP_LIMIT_MS} ms (a worker and an instance) and was stopped`;
      this.replace(entry, new GuestCallError('timeout', message));
    } else if (elapsed !== undefined && elapsed >= timeoutMs) {
      this.replace(entry, new GuestCallError('timeout', `the handler did not finish within ${timeoutMs} ms and was stopped`));
    } else {
      const next = elapsed === undefined ? Math.min(timeoutMs, STARTUP_LIMIT_MS - waited) : timeoutMs - elapsed;
      current.timer = setTimeout(() => this.checkTime(entry, callId, sentAt), Math.max(1, next));
    }
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

  /**
   * Records where a resident call left its state: in `entry`'s instance of `bytes`, or
   * nowhere (the call failed, or the instance was recycled). Other workers' copies are stale
   * and dropped, and `entry` drops its least recently used states past the memory budget.
   */
  private holds(entry: PoolWorker, call: PendingCall, bytes: number | undefined): void {
    const { moduleId, caller } = call;
    const key = residentKey(moduleId, caller);
    this.untrack(entry, key);
    if (bytes === undefined) return;
    for (const other of this.workers) if (other !== entry) this.evict(other, key, moduleId, caller);
    entry.residents.set(key, bytes);
    entry.residentBytes += bytes;
    for (const [oldest] of entry.residents) {
      if (entry.residentBytes <= this.residentBytes || oldest === key) break;
      const [oldModule, ...oldCaller] = oldest.split(' ');
      this.evict(entry, oldest, Number(oldModule), oldCaller.join(' '));
    }
  }

  private evict(entry: PoolWorker, key: string, moduleId: number, caller: string): void {
    if (this.untrack(entry, key)) this.post(entry, { type: 'evict', moduleId, callers: [caller] });
  }

  private untrack(entry: PoolWorker, key: string): boolean {
    const bytes = entry.residents.get(key);
    if (bytes === undefined) return false;
    entry.residents.delete(key);
    entry.residentBytes -= bytes;
    return true;
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
      for (const key of entry.residents.keys()) if (key.startsWith(`${moduleId} `)) this.untrack(entry, key);
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
