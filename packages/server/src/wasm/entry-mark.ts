/**
 * Where a worker marks the call it has entered the guest for, and when, in memory the pool
 * shares with it: the pool's timer reads it when it fires, so a call's time limit counts
 * from when the guest is entered without the worker sending a message for it.
 */
export class EntryMark {
  private readonly callId: Int32Array;
  private readonly enteredAt: Float64Array;

  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(16)) {
    this.callId = new Int32Array(buffer, 0, 1);
    this.enteredAt = new Float64Array(buffer, 8, 1);
  }

  /** In the worker: the guest is about to be entered for `callId`. */
  enter(callId: number): void {
    this.enteredAt[0] = now();
    // Stored last, atomically: a pool that reads this call id reads the time written before it.
    Atomics.store(this.callId, 0, callId);
  }

  /** In the pool: how long ago the guest was entered for `callId`, or `undefined` if it was not yet. */
  elapsed(callId: number): number | undefined {
    return Atomics.load(this.callId, 0) === callId ? now() - this.enteredAt[0]! : undefined;
  }
}

/** Milliseconds on a clock every thread of the process shares. */
const now = () => performance.timeOrigin + performance.now();
