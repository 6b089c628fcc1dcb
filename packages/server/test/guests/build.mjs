// Builds every guest fixture in this folder with the livestate-guest compiler, as
// its `// build: <output> [options]` lines say, into ../../build/guests. A module
// newer than its source, than the guest library and than the files without a build
// line (shared by several modules) is not built again.
import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const packageRoot = join(here, '..', '..');
const outDir = join(packageRoot, 'build', 'guests');
const compiler = join(packageRoot, 'node_modules', '@livestate', 'guest', 'bin', 'livestate-guest.mjs');

const modified = async (path) => (await stat(path).catch(() => undefined))?.mtimeMs ?? 0;
const guestAssembly = join(dirname(compiler), '..', 'assembly');
const libraryModified = Math.max(
  ...(await Promise.all((await readdir(guestAssembly)).map((name) => modified(join(guestAssembly, name))))),
  await modified(compiler),
);

const buildLine = /^\/\/ build: (\S+)(.*)$/gm;
const sources = await Promise.all(
  (await readdir(here)).filter((name) => name.endsWith('.ts')).map(async (file) => ({ file, text: await readFile(join(here, file), 'utf8') })),
);
const sharedModified = Math.max(
  0,
  ...(await Promise.all(sources.filter(({ text }) => !text.match(buildLine)).map(({ file }) => modified(join(here, file))))),
);

const jobs = [];
let upToDate = 0;
for (const { file, text } of sources) {
  const sourceModified = Math.max(await modified(join(here, file)), libraryModified, sharedModified);
  for (const [, output, options] of text.matchAll(buildLine)) {
    if ((await modified(join(outDir, output))) > sourceModified) {
      upToDate++;
      continue;
    }
    jobs.push([join('test', 'guests', file), '-o', join(outDir, output), ...options.trim().split(/\s+/).filter(Boolean)]);
  }
}
await mkdir(outDir, { recursive: true });
const run = promisify(execFile);
const queue = [...jobs];
await Promise.all(
  Array.from({ length: availableParallelism() }, async () => {
    for (let job = queue.shift(); job; job = queue.shift()) {
      await run(process.execPath, [compiler, ...job], { cwd: packageRoot }).catch((error) => {
        console.error(`building ${job[0]} failed:\n${error.stderr || error.message}`);
        process.exitCode = 1;
      });
    }
  }),
);
console.log(`built ${jobs.length} guest modules into ${outDir} (${upToDate} up to date)`);
