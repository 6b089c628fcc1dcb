// Shared helpers for the benchmarks: medians, ratios, the run's identity, and output.
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const benchDir = dirname(fileURLToPath(import.meta.url));
export const quick = process.argv.includes('--quick');

export const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

export function runIdentity() {
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: benchDir }).toString().trim();
  } catch {
    // not a git checkout
  }
  return {
    commit,
    date: new Date().toISOString(),
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    quick,
  };
}

/** Writes `results/<name>.json` and prints the Markdown table. */
export async function report(name, identity, rows, markdown) {
  const file = join(benchDir, 'results', `${name}.json`);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, JSON.stringify({ ...identity, rows }, null, 2) + '\n');
  console.log(`\n${markdown}\n\n(${identity.commit}, ${identity.cpu}, ${identity.cores} cores, Node ${identity.node}; ${file})`);
}
