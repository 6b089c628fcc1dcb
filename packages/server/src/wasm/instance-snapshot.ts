import { EXPOSED_GLOBAL_PREFIX } from './module-rewriter.js';

/** Memory is compared and copied in chunks of this many bytes: most of a fresh instance's memory is zero. */
const CHUNK = 4096;

/**
 * An instance's linear memory and mutable globals as they were when it was
 * created, to put back before it serves another caller: what one caller's calls
 * left in its memory or globals never reaches another's. It needs the module's
 * mutable globals exported (`exposeMutableGlobals` of the module rewriter).
 */
export class InstanceSnapshot {
  private constructor(
    private readonly memory: WebAssembly.Memory,
    private readonly byteLength: number,
    /** The runs of chunks that are not all zero, with their offsets. */
    private readonly segments: ReadonlyArray<readonly [number, Uint8Array]>,
    private readonly globals: ReadonlyArray<readonly [WebAssembly.Global, unknown]>,
  ) {}

  static take(exports: Record<string, unknown>, memory: WebAssembly.Memory): InstanceSnapshot {
    const bytes = new Uint8Array(memory.buffer);
    const segments: Array<readonly [number, Uint8Array]> = [];
    let start = -1;
    for (let offset = 0; offset <= bytes.length; offset += CHUNK) {
      const zero = offset >= bytes.length || isZero(bytes.subarray(offset, offset + CHUNK));
      if (!zero && start === -1) start = offset;
      if (zero && start !== -1) {
        segments.push([start, bytes.slice(start, offset)]);
        start = -1;
      }
    }
    const globals = Object.entries(exports)
      .filter(([name]) => name.startsWith(EXPOSED_GLOBAL_PREFIX))
      .map(([, global]) => [global as WebAssembly.Global, (global as WebAssembly.Global).value] as const);
    return new InstanceSnapshot(memory, bytes.length, segments, globals);
  }

  /**
   * Puts the memory and globals back; returns false, changing nothing, when the memory
   * has grown since: the guest's allocator would never use the grown pages again, so
   * the instance must be replaced instead.
   */
  restore(): boolean {
    const bytes = new Uint8Array(this.memory.buffer);
    if (bytes.length !== this.byteLength) return false;
    bytes.fill(0);
    for (const [offset, segment] of this.segments) bytes.set(segment, offset);
    for (const [global, value] of this.globals) global.value = value;
    return true;
  }
}

const ZERO_CHUNK = Buffer.alloc(CHUNK);

function isZero(chunk: Uint8Array): boolean {
  return ZERO_CHUNK.equals(chunk);
}
