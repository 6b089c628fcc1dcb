// build: wasi.wasm -- --config ./node_modules/@assemblyscript/wasi-shim/asconfig.json
// A module that imports WASI, as modules compiled from JavaScript by the Extism JS PDK
// or from C with wasi-libc do: it writes to stdout and stderr and reads the clock.
import { Host } from '@extism/as-pdk';
import { writeOutput } from '@livestate/guest/assembly/io';

export function init(): i32 {
  writeOutput('{"started":' + (Date.now() > 0 ? 'true' : 'false') + '}');
  return 0;
}

export function speak(): i32 {
  console.log('to stdout from WASI');
  process.stderr.write('to stderr from WASI\n');
  writeOutput('{"spoke":true}');
  return 0;
}

export function quit(): i32 {
  process.exit(3);
  Host.input();
  return 0;
}
