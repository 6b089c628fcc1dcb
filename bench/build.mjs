// Builds the benchmarks' WebAssembly handlers (handlers/*.ts, one module per `// build:` line)
// into bench/build/, skipping those that are up to date, and the component (livestate-guest-js
// skips it when its source is unchanged).
import { buildComponent } from '@livestate/guest-js/build';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { benchDir } from './measure.mjs';

const compiler = join(benchDir, '..', 'packages', 'guest', 'bin', 'livestate-guest.mjs');
const mtime = (path) => statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? 0;
const guestLibrary = join(benchDir, '..', 'packages', 'guest', 'assembly');
// A module is built again when the compiler or the library compiled into it changed.
const toolkit = Math.max(mtime(compiler), ...readdirSync(guestLibrary).map((file) => mtime(join(guestLibrary, file))));
mkdirSync(join(benchDir, 'build'), { recursive: true });
const buildLine = /^\/\/ build: (\S+)(.*)$/gm;
const sources = readdirSync(join(benchDir, 'handlers'))
  .filter((name) => name.endsWith('.ts'))
  .map((file) => ({ path: join(benchDir, 'handlers', file), text: readFileSync(join(benchDir, 'handlers', file), 'utf8') }));
// Files without a build line are shared by the modules that import them.
const shared = Math.max(0, ...sources.filter(({ text }) => !text.match(buildLine)).map(({ path }) => mtime(path)));
for (const { path: source, text } of sources) {
  for (const [, output, options] of text.matchAll(buildLine)) {
    const target = join(benchDir, 'build', output);
    if (mtime(target) > Math.max(mtime(source), toolkit, shared)) continue;
    execFileSync(process.execPath, [compiler, source, '-o', target, ...options.trim().split(/\s+/).filter(Boolean)], {
      cwd: join(benchDir, '..', 'packages', 'server'),
      stdio: 'inherit',
    });
  }
}
await buildComponent({ source: join(benchDir, 'handlers', 'todo-component.ts'), out: join(benchDir, 'build', 'todo.component.wasm') });
