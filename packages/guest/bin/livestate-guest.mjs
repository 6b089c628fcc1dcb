#!/usr/bin/env node
// Compiles a LiveState handler written in AssemblyScript to a WebAssembly module,
// with the flags every handler needs: the json-as transform, the abort handler
// routed to the host log, optimization and a declared memory maximum.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import asc from 'assemblyscript/asc';

const usage = `usage: livestate-guest <handler.ts> -o <handler.wasm> [--portable] [--max-memory <MiB>|none] [--debug] [-- <asc options>]

  -o, --out <file>      the module to write
  --portable            use only the standard Extism kernel calls, so the module runs on any
                        Extism host; by default it imports @livestate/server's bulk-copy host
                        functions, which make each event several times cheaper
  --max-memory <MiB>    the linear memory maximum the module declares (default 64; 'none'
                        declares none, and the server's cap applies alone)
  --debug               no optimization, with debug names
  -- <asc options>      passed to the AssemblyScript compiler as they are`;

const separator = process.argv.indexOf('--', 2);
const ownArgs = process.argv.slice(2, separator === -1 ? undefined : separator);
const ascArgs = separator === -1 ? [] : process.argv.slice(separator + 1);

const { values, positionals } = parseArgs({
  args: ownArgs,
  allowPositionals: true,
  options: {
    out: { type: 'string', short: 'o' },
    portable: { type: 'boolean', default: false },
    'max-memory': { type: 'string', default: '64' },
    debug: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log(usage);
  process.exit(0);
}
const maxMiB = values['max-memory'] === 'none' ? undefined : Number(values['max-memory']);
if (positionals.length !== 1 || !values.out || (maxMiB !== undefined && !(Number.isInteger(maxMiB) && maxMiB >= 1))) {
  console.error(usage);
  process.exit(2);
}

// json-as and as-pdk are dependencies of this package: let asc find them from here,
// wherever the handler lives.
const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const jsonAsRoot = dirname(createRequire(join(packageRoot, 'package.json')).resolve('json-as/package.json'));
const args = [
  positionals[0],
  '--outFile', values.out,
  '--path', [join(packageRoot, 'node_modules'), join(jsonAsRoot, '..')].join(','),
  '--transform', join(jsonAsRoot, 'transform/lib/index.js'),
  '--use', 'abort=~lib/@livestate/guest/assembly/abort/livestateAbort',
  ...(maxMiB === undefined ? [] : ['--maximumMemory', String(maxMiB * 16)]),
  '--runtime', 'incremental',
  ...(values.portable ? ['--use', 'LIVESTATE_PORTABLE=1'] : []),
  ...(values.debug ? ['--debug'] : ['-O3']),
  ...ascArgs,
];
const { error, stderr } = await asc.main(args);
if (error) {
  console.error(stderr.toString());
  process.exit(1);
}
