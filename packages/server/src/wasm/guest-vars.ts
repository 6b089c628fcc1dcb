import type { CallContext } from '@extism/extism';

/**
 * Extism's `var_get` and `var_set` kernel calls, kept by the host and cleared with
 * the instance's snapshot: the SDK's own keep them for the life of the plugin,
 * unbounded, whoever the call is for. `maxBytes` bounds keys and values together.
 */
export function guestVars(maxBytes: number) {
  const vars = new Map<string, Uint8Array>();
  let size = 0;
  const keyAt = (context: CallContext, address: bigint) => context.read(address)?.text();
  return {
    clear(): void {
      vars.clear();
      size = 0;
    },
    functions: {
      var_get(context: CallContext, keyAddress: bigint): bigint {
        const key = keyAt(context, keyAddress);
        const value = key === undefined ? undefined : vars.get(key);
        return value === undefined ? 0n : context.store(value);
      },
      var_set(context: CallContext, keyAddress: bigint, valueAddress: bigint): void {
        const key = keyAt(context, keyAddress);
        if (key === undefined) throw new Error('var_set: no key block');
        const previous = vars.get(key);
        if (previous) size -= key.length + previous.byteLength;
        vars.delete(key);
        if (valueAddress === 0n) return;
        const value = context.read(valueAddress)?.bytes().slice();
        if (value === undefined) throw new Error('var_set: no value block');
        if (size + key.length + value.byteLength > maxBytes) throw new Error(`Extism vars may hold at most ${maxBytes} bytes`);
        size += key.length + value.byteLength;
        vars.set(key, value);
      },
    },
  };
}
