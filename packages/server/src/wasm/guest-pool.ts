import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../logger.js';
import { EntryMark } from './entry-mark.js';
import type { InlineGuests } from './inline-guests.js';
import { loadInlineGuests } from './load-inline-guests.js';
import { ResidentPlacement, residentState, type ResidentState } from './resident-placement.js';
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
   * Run resident calls of interruptible modules on the server's own thread when they are
   * small (see the README's "Resident state"). Default true.
   */
  inline?: boolean;
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
  /** For a call to a resident module: the state it is for. */
  state?: ResidentState;
  /** Set when the state's text is sent with the call: its length. */
  loadedText?: number;
  /** Told how long the call ran in the guest (Infinity when it was stopped at its time limit). */
  guestTime?: (ms: number) => void;
  resolve(output: string | null): void;
  reject(error: GuestCallError): void;
}

/** A topic's calls: the waiting ones in order, and whether one is running. */
interface Lane {
  waiting: PendingCall[];
  running: boolean;
}

/** A call as the pool receives it; `state` is set for a resident module's. */
interface PoolRequest {
  moduleId: number;
  name: string;
  input: GuestInput;
  options: CallOptions;
  state?: ResidentState;
}

type ResidentRequest = PoolRequest & { state: ResidentState };

/** A call sent to a worker. */
interface SentCall {
  callId: number;
  call: PendingCall;
}

interface PoolWorker {
  worker: Worker;
  entryMark: EntryMark;
  loaded: Set<number>;
  /** The calls sent to it, in the order it runs them: the first is running (or about to). */
  sent: SentCall[];
  /** The time limit of the first sent call. */
  timer?: NodeJS.Timeout;
  /** How many times in a row it was free while every waiting call's state was held by a busy worker. */
  idlePasses: number;
}

/**
 * A call whose state a busy worker holds waits for that worker, rather than loading its state
 * on a free one, until a free worker has found nothing else to run this many times in a row.
 */
const MAX_PASSES = 4;

/**
 * How many calls of states a worker holds may be sent to it at once: it runs them one after
 * the other without waiting for the pool in between, which spares a wake-up of each thread
 * per call (a round trip between threads costs about 18 µs of CPU alone, 7 µs four at a time).
 */
const PIPELINE_DEPTH = 4;

/** `make`, called at most once. */
function once<T>(make: () => T): () => T {
  let made: { value: T } | undefined;
  return () => (made ??= { value: make() }).value;
}

/** Where the placement records the states held on the server's own thread. */
const INLINE = Symbol('inline');
type Holder = PoolWorker | typeof INLINE;

/** A state whose text is longer is loaded on a worker, not on the server's own thread. */
const MAX_INLINE_LOAD = 64 * 1024;

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
 * heartbeats and other topics carry on. (Small resident calls of interruptible modules
 * run on the server's own thread instead, through {@link InlineGuests}, stopped by a
 * watchdog.)
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

  private readonly placement: ResidentPlacement<Holder>;
  private readonly inlineAllowed: boolean;
  private inline: InlineGuests | undefined;
  private inlineLoading: Promise<void> | undefined;

  /** `size`: the worker threads, by default the machine's parallelism (at least 2). */
  constructor(
    readonly size: number = Math.max(2, availableParallelism()),
    { residentMiB = 256, inline = true }: GuestPoolOptions = {},
  ) {
    this.placement = new ResidentPlacement(residentMiB * 1024 * 1024);
    this.inlineAllowed = inline;
  }

  /**
   * Makes an Extism plugin's compiled module callable; returns its id for {@link call}.
   * Given the bytes it was compiled from, a worker whose instances outgrow their
   * snapshot compiles it again with that much initial memory, so that resets stay cheap.
   */
  load(module: CompiledModule, settings: PluginSettings, logger: Logger, bytes?: Uint8Array): number {
    if (settings.interruptible) this.prepareInline();
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
    if (!options.resident) return this.enqueue(loaded, { moduleId, name, input, options });
    // The state's text is made at most once, whichever thread ends up loading it.
    const request = {
      moduleId,
      name,
      input,
      options: { ...options, resident: { stateText: once(options.resident.stateText) } },
      state: residentState(moduleId, options.caller),
    };
    return this.inlineCall(loaded, request) ?? this.enqueue(loaded, request);
  }

  /** Queues a call in its topic's lane for a worker; `guestTime` learns how long it ran in the guest. */
  private enqueue(loaded: LoadedModule, { moduleId, name, input, options, state }: PoolRequest, guestTime?: (ms: number) => void): Promise<string | null> {
    const lane = this.laneOf(options.topic);
    if (lane.waiting.length >= options.maxWaiting) {
      const count = lane.waiting.length;
      return Promise.reject(new GuestCallError('busy', `${count} ${count === 1 ? 'call' : 'calls'} of topic "${options.topic}" are already waiting`));
    }
    loaded.pending++;
    return new Promise<string | null>((resolve, reject) => {
      lane.waiting.push({ ...options, moduleId, name, input, ...(state ? { state } : {}), ...(guestTime ? { guestTime } : {}), resolve, reject });
      if (!lane.running && lane.waiting.length === 1) this.turns.push(options.topic);
      this.dispatch();
    });
  }

  /**
   * Drops a caller's state from the worker that holds it: the host's copy moved on without
   * it (a change the guest made was refused), so its next call loads the state again.
   */
  forget(moduleId: number, caller: string): void {
    this.drop(this.placement.remove(residentState(moduleId, caller).key));
  }

  /**
   * Runs a resident call on the server's own thread when its module is interruptible and not
   * demoted, and its state is held there, or held nowhere and small enough to load there;
   * `undefined` when it goes to a worker. A call the watchdog stopped goes to a worker then.
   */
  private inlineCall(loaded: LoadedModule, call: ResidentRequest): Promise<string | null> | undefined {
    const { moduleId, options, state } = call;
    if (!this.inlineAllowed || !loaded.settings.interruptible) return undefined;
    if (!this.inline) {
      this.prepareInline();
      return undefined;
    }
    const placed = this.placement.placementOf(state.key);
    if (!this.inline.accepts(moduleId, placed?.worker === INLINE)) return undefined;
    if (placed === undefined) {
      if (options.resident!.stateText().length > MAX_INLINE_LOAD) return undefined;
    } else if (placed.worker !== INLINE) {
      // Held by a worker (from before the runner was loaded, or while the module was demoted): moved here when it was small.
      if (placed.loadedText > MAX_INLINE_LOAD || placed.worker.sent.length > 0) return undefined;
      this.drop(this.placement.remove(state.key));
    }
    loaded.pending++;
    return this.runInline(loaded, call);
  }

  private async runInline(loaded: LoadedModule, call: ResidentRequest): Promise<string | null> {
    const { moduleId, name, input, options, state } = call;
    const log = (level: LogLevel, message: string) => this.log(moduleId, level, message);
    const request = { name, input, caller: options.caller, stateText: options.resident!.stateText };
    const outcome = await this.inline!.run(moduleId, loaded.guest, loaded.settings, log, request, options.timeoutMs);
    this.release(moduleId);
    if (outcome === 'overran') {
      this.placement.remove(state.key);
      return this.enqueue(loaded, call, (guestMs) => this.inline?.judge(moduleId, guestMs, log));
    }
    if (outcome.type === 'done' && outcome.residentBytes !== undefined) {
      for (const dropped of this.placement.place(state, INLINE, outcome.residentBytes, undefined, () => false)) this.drop(dropped);
    } else {
      this.placement.remove(state.key);
    }
    if (outcome.type === 'failed') throw new GuestCallError(outcome.kind, outcome.message);
    return outcome.output;
  }

  /** Starts loading the inline runner, which calls use once it is there (until then they go to workers). */
  private prepareInline(): void {
    if (!this.inlineAllowed || this.closed) return;
    this.inlineLoading ??= loadInlineGuests().then((inline) => {
      if (this.closed) void inline.close();
      else this.inline = inline;
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
      clearTimeout(entry.timer);
      for (const { call } of entry.sent.splice(0)) call.reject(new GuestCallError('closed', 'the guest pool was closed while the call was running'));
    }
    await this.inlineLoading;
    await Promise.all([...workers.map(({ worker }) => worker.terminate()), this.inline?.close()]);
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
   * worker with room in its pipeline (free or not), or by no one (a free worker). When every
   * waiting call's state is held by a worker that is full, a free worker would sit idle: after
   * it has done so {@link MAX_PASSES} times in a row, the first waiting call runs on it instead
   * and loads its state there, so a worker stuck in a long call, or holding more than its
   * share of busy states, hands states over.
   */
  private choose(): { entry: PoolWorker; turn: number } | undefined {
    const free = this.workers.find((candidate) => candidate.sent.length === 0) ?? this.spawn();
    for (let turn = 0; turn < this.turns.length; turn++) {
      const state = this.lanes.get(this.turns[turn]!)!.waiting[0]!.state;
      const holder = state && this.workerHolding(state.key);
      if (!holder) {
        if (free) return { entry: free, turn };
      } else if (holder.sent.length < PIPELINE_DEPTH) {
        return { entry: holder, turn };
      }
    }
    if (!free || ++free.idlePasses <= MAX_PASSES) return undefined;
    return { entry: free, turn: 0 };
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
    const entry: PoolWorker = { worker, entryMark, loaded: new Set(), sent: [], idlePasses: 0 };
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
    entry.sent.push({ callId, call });
    if (entry.sent.length === 1) this.timeFirst(entry);
    entry.idlePasses = 0;
    entry.worker.ref();
    const { moduleId, name, input, caller, state } = call;
    const resident = call.resident && (this.workerHolding(state!.key) === entry ? {} : { load: call.resident.stateText() });
    if (resident?.load !== undefined) call.loadedText = resident.load.length;
    this.post(entry, { type: 'call', callId, moduleId, name, input, caller, ...(resident ? { resident } : {}) });
  }

  private receive(entry: PoolWorker, message: FromWorker): void {
    if (message.type === 'log') {
      this.log(message.moduleId, message.level, message.message);
      return;
    }
    if (entry.sent[0]?.callId !== message.callId) return;
    const { call } = entry.sent.shift()!;
    call.guestTime?.(message.guestMs);
    this.timeFirst(entry);
    if (call.state) this.placed(entry, call.state, message.type === 'done' ? message.residentBytes : undefined, call.loadedText);
    if (message.type === 'done') call.resolve(message.output);
    else call.reject(new GuestCallError(message.kind, message.message));
    this.settle(call);
    this.dispatch();
  }

  /** Starts the time limit of the worker's first sent call, which it runs next if it is not running it yet. */
  private timeFirst(entry: PoolWorker): void {
    clearTimeout(entry.timer);
    entry.timer = undefined;
    const first = entry.sent[0];
    if (!first) {
      entry.worker.unref();
      return;
    }
    const firstAt = performance.now();
    entry.timer = setTimeout(() => this.checkTime(entry, first, firstAt), first.call.timeoutMs);
  }

  /**
   * Stops a call that has run in the guest for its time limit, or that has not entered the
   * guest within {@link STARTUP_LIMIT_MS} of becoming the worker's first; otherwise looks
   * again when the earlier of the two could next be reached.
   */
  private checkTime(entry: PoolWorker, first: SentCall, firstAt: number): void {
    if (entry.sent[0] !== first) return;
    const { timeoutMs } = first.call;
    const elapsed = entry.entryMark.elapsed(first.callId);
    const waited = performance.now() - firstAt;
    if (elapsed === undefined && waited >= STARTUP_LIMIT_MS) {
      const message = `the guest did not start within ${STARTUP_LIMIT_MS} ms (a worker and an instance) and was stopped`;
      this.replace(entry, new GuestCallError('timeout', message));
    } else if (elapsed !== undefined && elapsed >= timeoutMs) {
      this.replace(entry, new GuestCallError('timeout', `the handler did not finish within ${timeoutMs} ms and was stopped`));
    } else {
      const next = elapsed === undefined ? Math.min(timeoutMs, STARTUP_LIMIT_MS - waited) : timeoutMs - elapsed;
      entry.timer = setTimeout(() => this.checkTime(entry, first, firstAt), Math.max(1, next));
    }
  }

  /**
   * Ends a worker (a runaway call, or a crash), fails its running call, and lets a fresh
   * worker take over; the calls sent after it, which it never started, go back to the front
   * of their topics' lanes.
   */
  private replace(entry: PoolWorker, error: GuestCallError): void {
    const index = this.workers.indexOf(entry);
    if (index === -1) return;
    this.workers.splice(index, 1);
    clearTimeout(entry.timer);
    void entry.worker.terminate();
    this.placement.removeWhere((placed) => placed.worker === entry);
    const [running, ...unstarted] = entry.sent.splice(0);
    for (const { call } of unstarted.reverse()) {
      const lane = this.laneOf(call.topic);
      lane.waiting.unshift(call);
      lane.running = false;
      this.turns.unshift(call.topic);
    }
    if (running) {
      running.call.guestTime?.(error.kind === 'timeout' ? Infinity : 0);
      running.call.reject(error);
      this.settle(running.call);
    }
    if (!this.closed) this.dispatch();
  }

  /**
   * Records where a resident call left its state: in `entry`'s instance of `bytes`, or
   * nowhere (the call failed, or the instance was recycled). A stale copy on another worker
   * is dropped, and so are the states `entry` used least recently past the memory budget.
   */
  private placed(entry: PoolWorker, state: ResidentState, bytes: number | undefined, loadedText: number | undefined): void {
    if (bytes === undefined) {
      const removed = this.placement.remove(state.key);
      if (removed?.worker !== entry) this.drop(removed);
      return;
    }
    const sentFor = (key: string) => entry.sent.some(({ call }) => call.state?.key === key);
    for (const dropped of this.placement.place(state, entry, bytes, loadedText, sentFor)) this.drop(dropped);
  }

  /** The worker that holds a state, if one does (not the server's own thread). */
  private workerHolding(key: string): PoolWorker | undefined {
    const holder = this.placement.holderOf(key);
    return holder === INLINE ? undefined : holder;
  }

  /** Tells the thread that held a state to drop it. */
  private drop(placed: { worker: Holder; state: ResidentState } | undefined): void {
    if (!placed) return;
    const { worker, state } = placed;
    if (worker === INLINE) this.inline?.evict(state.moduleId, state.caller);
    else if (this.workers.includes(worker)) this.post(worker, { type: 'evict', moduleId: state.moduleId, callers: [state.caller] });
  }

  private settle(call: PendingCall): void {
    this.endTurn(call);
    this.release(call.moduleId);
  }

  /** A call of the module is over; a retired module with none left is unloaded. */
  private release(moduleId: number): void {
    const loaded = this.modules.get(moduleId);
    if (loaded && --loaded.pending === 0 && loaded.retired) this.unload(moduleId);
  }

  private unload(moduleId: number): void {
    this.modules.delete(moduleId);
    for (const entry of this.workers) {
      if (entry.loaded.delete(moduleId)) this.post(entry, { type: 'unload', moduleId });
    }
    this.placement.removeWhere((placed) => placed.state.moduleId === moduleId);
    void this.inline?.unload(moduleId);
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
