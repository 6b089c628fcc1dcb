// `pnpm bench [--quick]`: every benchmark, one after another, each in its own process.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { benchDir } from './measure.mjs';

const benchmarks = ['handler-cost.mjs', 'generator-check.mjs', 'load.mjs'];
let failed = false;
for (const file of benchmarks) {
  const { status } = spawnSync(process.execPath, [join(benchDir, file), ...process.argv.slice(2)], { stdio: 'inherit' });
  failed ||= status !== 0;
}
process.exit(failed ? 1 : 0);
