// Builds the benchmarks' WebAssembly handlers into bench/build/ (skipped when up to date).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { benchDir } from './measure.mjs';

const compiler = join(benchDir, '..', 'packages', 'guest', 'bin', 'livestate-guest.mjs');
const source = join(benchDir, 'handlers', 'todo.ts');
const mtime = (path) => statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? 0;
mkdirSync(join(benchDir, 'build'), { recursive: true });
for (const [, output, options] of readFileSync(source, 'utf8').matchAll(/^\/\/ build: (\S+)(.*)$/gm)) {
  const target = join(benchDir, 'build', output);
  if (mtime(target) > Math.max(mtime(source), mtime(compiler))) continue;
  execFileSync(process.execPath, [compiler, source, '-o', target, ...options.trim().split(/\s+/).filter(Boolean)], {
    cwd: join(benchDir, '..', 'packages', 'server'),
    stdio: 'inherit',
  });
}
