import type { CallContext } from '@extism/extism';

const MIB = 1024 * 1024;

/**
 * A bound on the Extism kernel blocks one call allocates: memory the SDK takes on
 * the host's side when a guest calls `alloc` (or `livestate_write_block`), outside
 * the guest's linear memory and its cap. The SDK's own `memory.maxPages` does not
 * bound it (it keeps the block it refuses). A call that goes past it traps.
 */
export class KernelBudget {
  private used = 0;

  constructor(private readonly maxBytes: number) {}

  /** A call starts: the SDK drops the previous call's blocks when it starts one. */
  reset(): void {
    this.used = 0;
  }

  charge(bytes: number): void {
    this.used += bytes;
    if (this.used > this.maxBytes) {
      throw new Error(`the guest allocated more than the ${this.maxBytes / MIB} MiB of Extism kernel blocks it may hold in one call`);
    }
  }

  /** The kernel's `alloc`, charged to the budget. */
  alloc = (context: CallContext, size: bigint): bigint => {
    this.charge(Number(size));
    return context.alloc(size);
  };
}
