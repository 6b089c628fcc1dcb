import { Worker } from 'node:worker_threads';

/** What the watchdog's thread is told: an instance's interrupt flag to watch, or to forget. */
export type WatchdogMessage = { type: 'register'; id: number; flag: SharedArrayBuffer } | { type: 'unregister'; id: number };

const THREAD_URL = new URL('./watchdog-thread.js', import.meta.url);

/**
 * Stops a guest that runs on the server's own thread past its deadline, where no timer can
 * fire: a thread of its own looks every `intervalMs` and sets the instance's interrupt flag
 * (a shared memory the module rewriter adds with `interruptible`), and the guest traps at
 * its next function entry or loop header. One call is armed at a time.
 */
export class InterruptWatchdog {
  private readonly control = new SharedArrayBuffer(16);
  /** [the armed flag's id (0: none), the id of the last flag it set]. */
  private readonly armed = new Int32Array(this.control, 0, 2);
  private readonly deadline = new Float64Array(this.control, 8, 1);
  private readonly ids = new WeakMap<SharedArrayBuffer, { id: number; view: Int32Array }>();
  private readonly thread: Worker;
  private nextId = 1;

  constructor(readonly intervalMs = 2) {
    this.thread = new Worker(THREAD_URL, { workerData: { control: this.control, intervalMs } });
    this.thread.unref();
  }

  /** Clears an instance's flag and has it set once `ms` have passed; returns a token for {@link fired}. */
  arm(flag: SharedArrayBuffer, ms: number): number {
    let watched = this.ids.get(flag);
    if (watched === undefined) {
      watched = { id: this.nextId++, view: new Int32Array(flag, 0, 1) };
      this.ids.set(flag, watched);
      this.thread.postMessage({ type: 'register', id: watched.id, flag } satisfies WatchdogMessage);
    }
    const { id, view } = watched;
    Atomics.store(view, 0, 0);
    Atomics.store(this.armed, 1, 0);
    this.deadline[0] = performance.timeOrigin + performance.now() + ms;
    Atomics.store(this.armed, 0, id);
    return id;
  }

  disarm(): void {
    Atomics.store(this.armed, 0, 0);
  }

  /** Whether the watchdog stopped the call armed with `token`. */
  fired(token: number): boolean {
    return Atomics.load(this.armed, 1) === token;
  }

  /** Stops watching an instance that is closed. */
  forget(flag: SharedArrayBuffer): void {
    const watched = this.ids.get(flag);
    if (watched === undefined) return;
    this.ids.delete(flag);
    this.thread.postMessage({ type: 'unregister', id: watched.id } satisfies WatchdogMessage);
  }

  close(): Promise<number> {
    return this.thread.terminate();
  }
}
