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
mkdirSync(join(benchDir, 'build'), { recursive: true });
for (const file of readdirSync(join(benchDir, 'handlers')).filter((name) => name.endsWith('.ts'))) {
  const source = join(benchDir, 'handlers', file);
  for (const [, output, options] of readFileSync(source, 'utf8').matchAll(/^\/\/ build: (\S+)(.*)$/gm)) {
    const target = join(benchDir, 'build', output);
    if (mtime(target) > Math.max(mtime(source), mtime(compiler))) continue;
    execFileSync(process.execPath, [compiler, source, '-o', target, ...options.trim().split(/\s+/).filter(Boolean)], {
      cwd: join(benchDir, '..', 'packages', 'server'),
      stdio: 'inherit',
    });
  }
}
await buildComponent({ source: join(benchDir, 'handlers', 'todo-component.ts'), out: join(benchDir, 'build', 'todo.component.wasm') });
