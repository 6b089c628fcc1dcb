#!/usr/bin/env node
// Compiles a LiveState handler written in AssemblyScript to a WebAssembly module,
// with the flags every handler needs: the json-as transform, the abort handler
// routed to the host log, optimization and a declared memory maximum.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const usage = `usage: livestate-guest <handler.ts> -o <handler.wasm> [--portable] [--max-memory <MiB>|none] [--debug] [-- <asc options>]

  -o, --out <file>      the module to write
  --portable            use only the standard Extism kernel calls, so the module runs on any
                        Extism host; by default it imports @livestate/server's bulk-copy host
                        functions, which make each event several times cheaper
  --max-memory <MiB>    the linear memory maximum the module declares (default 64; 'none'
                        declares none, and the server's cap applies alone)
  --debug               no optimization, with debug names
  -- <asc options>      passed to the AssemblyScript compiler as they are
  -v, --version         print the versions of livestate-guest and the AssemblyScript compiler
  -h, --help            print this`;

/** A usage error: says what is wrong, points at --help, exits 2 (no stack trace). */
function usageError(problem) {
  console.error(`livestate-guest: ${problem}\nRun 'livestate-guest --help' for usage.`);
  process.exit(2);
}

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const requireHere = createRequire(join(packageRoot, 'package.json'));

const separator = process.argv.indexOf('--', 2);
const ownArgs = process.argv.slice(2, separator === -1 ? undefined : separator);
const ascArgs = separator === -1 ? [] : process.argv.slice(separator + 1);

let parsed;
try {
  parsed = parseArgs({
    args: ownArgs,
    allowPositionals: true,
    options: {
      out: { type: 'string', short: 'o' },
      portable: { type: 'boolean', default: false },
      'max-memory': { type: 'string', default: '64' },
      debug: { type: 'boolean', default: false },
      version: { type: 'boolean', short: 'v', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
} catch (error) {
  if (error.code !== 'ERR_PARSE_ARGS_UNKNOWN_OPTION') usageError(error.message);
  usageError(`unknown option ${error.message.match(/'[^']*'/)[0]} (options for asc go after '--')`);
}
const { values, positionals } = parsed;
if (values.help) {
  console.log(usage);
  process.exit(0);
}
if (values.version) {
  const versionOf = (packageJson) => JSON.parse(readFileSync(packageJson, 'utf8')).version;
  const ascVersion = versionOf(requireHere.resolve('assemblyscript/package.json'));
  console.log(`livestate-guest ${versionOf(join(packageRoot, 'package.json'))} (AssemblyScript ${ascVersion})`);
  process.exit(0);
}
if (positionals.length === 0) usageError('no handler given: livestate-guest <handler.ts> -o <handler.wasm>');
if (positionals.length > 1) usageError(`one handler at a time, got ${positionals.length}: ${positionals.join(', ')}`);
const [handler] = positionals;
if (!existsSync(handler)) usageError(`no such file: ${handler}`);
if (!values.out) usageError('no output given: add -o <handler.wasm>');
const maxMiB = values['max-memory'] === 'none' ? undefined : Number(values['max-memory']);
if (maxMiB !== undefined && !(Number.isInteger(maxMiB) && maxMiB >= 1)) {
  usageError(`--max-memory takes a whole number of MiB (at least 1) or 'none', got '${values['max-memory']}'`);
}

/**
 * The node_modules folder that holds `name` as this package sees it. asc looks packages up
 * by name under each `--path`, and npm (flat), pnpm (a folder per package) and a workspace
 * put our dependencies in different places, so each one is resolved rather than assumed.
 */
function folderHolding(name) {
  const packageDir = dirname(requireHere.resolve(`${name}/package.json`));
  return join(packageDir, ...name.split('/').map(() => '..'));
}

const jsonAsRoot = dirname(requireHere.resolve('json-as/package.json'));
const libraryPaths = new Set(['json-as', 'xjb-as', '@extism/as-pdk'].map(folderHolding));
libraryPaths.add(join(packageRoot, '..', '..')); // this package itself, for ~lib/@livestate/guest
const args = [
  handler,
  '--outFile', values.out,
  '--path', [...libraryPaths].join(','),
  '--transform', join(jsonAsRoot, 'transform/lib/index.js'),
  '--use', 'abort=~lib/@livestate/guest/assembly/abort/livestateAbort',
  ...(maxMiB === undefined ? [] : ['--maximumMemory', String(maxMiB * 16)]),
  '--runtime', 'incremental',
  ...(values.portable ? ['--use', 'LIVESTATE_PORTABLE=1'] : []),
  ...(values.debug ? ['--debug'] : ['-O3']),
  ...ascArgs,
];
const started = performance.now();
// Loaded only now: the compiler takes a second to load, and usage errors need not wait for it.
const { default: asc } = await import('assemblyscript/asc');
const { error, stderr } = await asc.main(args);
if (error) {
  console.error(stderr.toString().trimEnd() || error.message);
  console.error(`livestate-guest: ${handler} did not compile`);
  process.exit(1);
}
const seconds = (performance.now() - started) / 1000;
const kib = statSync(values.out).size / 1024;
console.log(`livestate-guest: wrote ${values.out} (${kib.toFixed(1)} KiB) in ${seconds.toFixed(1)} s`);
