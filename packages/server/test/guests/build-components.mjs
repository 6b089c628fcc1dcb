// Builds each handler in ./components into a WebAssembly Component in ../../build/guests
// (<name>.component.wasm, with its loader and core module beside it); livestate-guest-js
// skips a handler whose bundled source has not changed since it was built.
import { readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildComponent } from '@livestate/guest-js/build';

const here = join(dirname(fileURLToPath(import.meta.url)), 'components');
const outDir = join(here, '..', '..', '..', 'build', 'guests');
for (const file of (await readdir(here)).filter((name) => name.endsWith('.ts'))) {
  const out = join(outDir, file.replace(/\.ts$/, '.component.wasm'));
  const { built } = await buildComponent({ source: join(here, file), out });
  console.log(`${built ? 'built' : 'up to date:'} ${out}`);
}
