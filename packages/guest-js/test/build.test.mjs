import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { buildComponent } from '@livestate/guest-js/build';

// The server's fixture, built by `pnpm build` before the tests run.
const fixture = fileURLToPath(new URL('../../server/test/guests/components/todo.ts', import.meta.url));
const built = fileURLToPath(new URL('../../server/build/guests/todo.component.wasm', import.meta.url));

describe('buildComponent', () => {
  it('skips a build whose bundled source, world and compiler are unchanged', async () => {
    const before = await readFile(built);
    assert.deepEqual(await buildComponent({ source: fixture, out: built }), { built: false, size: before.byteLength });
  });

  it('refuses an output that is not a .wasm file, and a handler that does not bundle, with the reason', async () => {
    await assert.rejects(buildComponent({ source: fixture, out: join(tmpdir(), 'handler.js') }), /the output must be a \.wasm file/);
    const dir = await mkdtemp(join(tmpdir(), 'livestate-guest-js-'));
    await writeFile(join(dir, 'handler.ts'), "import { nothing } from './missing.js';\nexport const go = () => nothing;\n");
    await assert.rejects(buildComponent({ source: join(dir, 'handler.ts'), out: join(dir, 'handler.wasm') }), /Could not resolve "\.\/missing\.js"/);
  });
});
