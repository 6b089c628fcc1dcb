#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { buildComponent } from './build.js';

const usage = `usage: livestate-guest-js <handler.js|handler.ts> -o <handler.component.wasm> [--force]

Compiles a LiveState handler written in JavaScript or TypeScript to a WebAssembly
Component with no imports, and transpiles it for @livestate/server: the loader
(<name>.js) and core modules (<name>.core.wasm) are written beside the component.

  -o, --out <file>   the component to write (ends in .wasm)
  --force            build even when the output was made from the same source`;

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        out: { type: 'string', short: 'o' },
        force: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    console.error(`${(error as Error).message}\n${usage}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(usage);
    return 0;
  }
  if (positionals.length !== 1 || !values.out) {
    console.error(usage);
    return 2;
  }
  try {
    const result = await buildComponent({ source: positionals[0]!, out: values.out, force: values.force });
    console.error(`${result.built ? 'built' : 'up to date:'} ${values.out} (${(result.size / 1024 / 1024).toFixed(1)} MiB)`);
    return 0;
  } catch (error) {
    console.error(`livestate-guest-js: ${(error as Error).message}`);
    return 1;
  }
}

process.exitCode = await main();
