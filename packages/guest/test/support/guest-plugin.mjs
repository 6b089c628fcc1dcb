// Building a test guest with the real livestate-guest compiler and running it with the
// real Extism host, which gets the two bulk-copy host functions that modules built
// without --portable import, as @livestate/server provides them.
import createPlugin from '@extism/extism';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const compiler = fileURLToPath(new URL('../../bin/livestate-guest.mjs', import.meta.url));

/** Compiles the guest `source` (a path) to `out` with livestate-guest and `options`. */
export async function compileGuest(source, out, ...options) {
  await promisify(execFile)(process.execPath, [compiler, source, '-o', out, ...options]);
}

/** An Extism plugin of the module at `path`, with its calls' output as text. */
export async function openGuest(path) {
  let memory;
  const plugin = await createPlugin(
    { wasm: [{ data: await readFile(path) }] },
    {
      useWasi: false,
      functions: {
        'extism:host/user': {
          livestate_read_block(context, block, destination) {
            const bytes = context.read(block).bytes();
            new Uint8Array(memory.buffer, destination, bytes.byteLength).set(bytes);
          },
          livestate_write_block(context, source, length) {
            return context.store(new Uint8Array(memory.buffer, source, length));
          },
        },
      },
    },
  );
  memory = (await plugin.getInstance()).exports.memory;
  return {
    /** Calls `name` with `input` (text); resolves with its output text ('' for none). */
    async call(name, input = '') {
      const output = await plugin.call(name, input);
      return output ? output.text() : '';
    },
    close: () => plugin.close(),
  };
}
