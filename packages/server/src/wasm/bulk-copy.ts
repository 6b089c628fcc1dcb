import type { CallContext } from '@extism/extism';
import type { KernelBudget } from './kernel-budget.js';

/** The namespace of host functions that guests import, as in the Extism PDKs. */
export const USER_NAMESPACE = 'extism:host/user';

/**
 * The fast path: two host functions that copy a whole kernel block to or from the
 * guest's linear memory at once. With only the standard kernel calls a guest pays a
 * host call per 8 bytes of every input and output; @livestate/guest uses these
 * unless it was built `--portable`.
 */
export function bulkCopyFunctions(memory: () => WebAssembly.Memory, budget: KernelBudget) {
  return {
    /** Copies the kernel block at `block` into guest memory at `destination`. */
    livestate_read_block(context: CallContext, block: bigint, destination: number): void {
      const data = context.read(block);
      if (data === null) throw new Error(`livestate_read_block: no block at ${block}`);
      const bytes = data.bytes();
      new Uint8Array(memory().buffer, destination, bytes.byteLength).set(bytes);
    },
    /** Copies `length` bytes of guest memory at `source` into a new kernel block, and returns its address. */
    livestate_write_block(context: CallContext, source: number, length: number): bigint {
      budget.charge(length);
      return context.store(new Uint8Array(memory().buffer, source, length));
    },
  };
}
