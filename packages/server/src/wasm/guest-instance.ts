import type { GuestInput } from './worker-protocol.js';

/** What a call returned, measured before it is decoded: output past the limit is never decoded. */
export interface GuestOutput {
  readonly byteLength: number;
  text(): string;
}

/** One live instance of a guest inside a plugin worker, whatever its kind. */
export interface GuestInstance {
  /** Runs one call; resolves to its output, or `null` when the guest set none. */
  call(name: string, input: GuestInput): Promise<GuestOutput | null>;
  /** The size of its linear memory now, which never shrinks: a large instance is replaced after its call. */
  readonly memoryBytes: number;
  /**
   * Puts the instance back as it was created, before it serves a call for another
   * state; returns false when it cannot, and the instance is replaced. An instance
   * without it is replaced at every switch.
   */
  reset?(): boolean;
  /**
   * The interrupt flag of a module rewritten `interruptible`: storing 1 in its first i32 makes
   * the guest trap at its next function entry or loop header.
   */
  readonly interruptFlag?: SharedArrayBuffer;
  close(): Promise<void>;
}

/** A failure the guest reported on purpose: the event fails with this message, and the instance stays usable. */
export class GuestError extends Error {}
