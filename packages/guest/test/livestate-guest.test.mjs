// The livestate-guest command as a user meets it: its version, usage errors that name the
// problem (exit 2, no stack trace), compile errors (exit 1). Compiling a handler, and the
// line it prints, is covered where users get the package: test/packed.test.mjs at the root.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../bin/livestate-guest.mjs', import.meta.url));
const { version } = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));

/** Runs livestate-guest; resolves with its exit code and output whatever the code. */
const guest = (...args) =>
  new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], (error, stdout, stderr) =>
      resolve({ code: error ? error.code : 0, stdout, stderr }),
    );
  });

describe('livestate-guest', () => {
  let dir;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'livestate-guest-cli-'));
    await writeFile(join(dir, 'broken.ts'), 'export function init(): i32 { return missing; }\n');
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('prints its version and the AssemblyScript compiler\'s', async () => {
    for (const flag of ['--version', '-v']) {
      const { code, stdout } = await guest(flag);
      assert.equal(code, 0);
      assert.match(stdout, new RegExp(`^livestate-guest ${version.replaceAll('.', '\\.')} \\(AssemblyScript \\d+\\.\\d+\\.\\d+\\)\\n$`));
    }
  });

  const usageErrors = [
    [[], 'no handler given: livestate-guest <handler.ts> -o <handler.wasm>'],
    [['a.ts', 'b.ts', '-o', 'x.wasm'], 'one handler at a time, got 2: a.ts, b.ts'],
    [['missing.ts', '-o', 'x.wasm'], 'no such file: missing.ts'],
    [[bin, '--bogus'], "unknown option '--bogus' (options for asc go after '--')"],
    [[bin], 'no output given: add -o <handler.wasm>'],
    [[bin, '-o'], "Option '-o, --out <value>' argument missing"],
    [[bin, '-o', 'x.wasm', '--max-memory', '0'], "--max-memory takes a whole number of MiB (at least 1) or 'none', got '0'"],
  ];
  for (const [args, problem] of usageErrors) {
    it(`names the problem and exits 2: ${problem}`, async () => {
      const { code, stdout, stderr } = await guest(...args);
      assert.equal(code, 2);
      assert.equal(stdout, '');
      assert.equal(stderr, `livestate-guest: ${problem}\nRun 'livestate-guest --help' for usage.\n`);
    });
  }

  it('prints usage with --help', async () => {
    const { code, stdout } = await guest('--help');
    assert.equal(code, 0);
    assert.match(stdout, /^usage: livestate-guest <handler\.ts> -o <handler\.wasm>/);
    assert.match(stdout, /-v, --version/);
  });

  it('prints the diagnostics of a handler that does not compile and exits 1', async () => {
    const source = join(dir, 'broken.ts');
    const { code, stderr } = await guest(source, '-o', join(dir, 'broken.wasm'));
    assert.equal(code, 1);
    assert.match(stderr, /Cannot find name 'missing'/);
    assert.match(stderr, new RegExp(`livestate-guest: ${source.replaceAll('/', '\\/')} did not compile\\n$`));
    assert.doesNotMatch(stderr, /^\s+at /m);
  });
});
