import { Host, Memory } from '@extism/as-pdk';
import { error_set, input_length, output_set } from '@extism/as-pdk/lib/env';

/*
 * Moving bytes between the host and the guest. The standard Extism kernel calls cost
 * one host call per 8 bytes; @livestate/server also offers two host functions that
 * copy a whole block at once. WebAssembly imports are resolved when a module is
 * instantiated, so a module either imports them (the default: it runs only on
 * @livestate/server) or is built with `--use LIVESTATE_PORTABLE=1` to use only the
 * standard kernel calls (it runs on any Extism host, such as the original Elixir one).
 */

@external('extism:host/env', 'input_offset')
declare function input_offset(): u64;

@external('extism:host/user', 'livestate_read_block')
declare function livestate_read_block(block: u64, destination: usize): void;

@external('extism:host/user', 'livestate_write_block')
declare function livestate_write_block(source: usize, length: usize): u64;

/** The call's input, decoded from UTF-8. */
export function readInput(): string {
  if (isDefined(LIVESTATE_PORTABLE)) return String.UTF8.decode(Host.input().buffer);
  const buffer = new ArrayBuffer(<i32>input_length());
  livestate_read_block(input_offset(), changetype<usize>(buffer));
  return String.UTF8.decode(buffer);
}

/** Stores `text` as UTF-8 in a kernel block and returns the block's address. */
function store(text: string): u64 {
  const bytes = String.UTF8.encode(text);
  if (isDefined(LIVESTATE_PORTABLE)) {
    const view = Uint8Array.wrap(bytes);
    const memory = Memory.allocate(view.length);
    memory.store(view);
    return memory.offset;
  }
  return livestate_write_block(changetype<usize>(bytes), bytes.byteLength);
}

export function writeOutput(text: string): void {
  const block = store(text);
  output_set(block, <u64>String.UTF8.byteLength(text));
}

export function writeError(message: string): void {
  error_set(store(message));
}
