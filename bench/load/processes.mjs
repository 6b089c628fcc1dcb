// Server processes for the benchmarks: started pinned to CPU 0 (the generator takes CPU 1),
// with their CPU time read from /proc, and the machine's busy time to spot disturbed runs.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { benchDir } from '../measure.mjs';

const CLOCK_TICK_US = 1e6 / 100;
export const pinned = cpus().length >= 2 && existsSync('/usr/bin/taskset');

/** Pins this process (the load generator) to CPU 1. */
export function pinGenerator() {
  if (pinned) execFileSync('taskset', ['-cp', '1', String(process.pid)], { stdio: 'ignore' });
}

export const TARGETS = {
  'livestate wasm': ['livestate.mjs', '--handler', 'wasm'],
  'livestate wasm classic': ['livestate.mjs', '--handler', 'wasm-classic'],
  'livestate js': ['livestate.mjs', '--handler', 'js'],
  'livestate js --faults': ['livestate.mjs', '--handler', 'js', '--faults'],
  'livestate wasm --faults': ['livestate.mjs', '--handler', 'wasm', '--faults'],
  'livestate js, sqlite': ['livestate.mjs', '--handler', 'js', '--storage', 'sqlite'],
  'livestate js, sqlite fsync': ['livestate.mjs', '--handler', 'js', '--storage', 'sqlite', '--fsync'],
  'phoenix reference': ['phoenix.mjs'],
  'phoenix reference, writes held': ['phoenix.mjs', '--hold-writes'],
  'raw echo': ['raw.mjs', '--mode', 'echo'],
  'raw broadcast': ['raw.mjs', '--mode', 'broadcast'],
};

/** CPU microseconds a process has used so far (all its threads). */
export function cpuMicrosOf(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * CLOCK_TICK_US;
}

/** Pins another process (a benchmark's Redis) to the servers' CPU. */
export function pinServer(pid) {
  if (pinned) execFileSync('taskset', ['-cp', '0', String(pid)], { stdio: 'ignore' });
}

/** Starts a target's server process; `extraArgs` follow the target's own. */
export async function startServer(target, extraArgs = []) {
  const [script, ...args] = [...TARGETS[target], ...extraArgs];
  const command = [process.execPath, '--expose-gc', join(benchDir, 'servers', script), ...args];
  const child = pinned ? spawn('taskset', ['-c', '0', ...command], { stdio: ['ignore', 'pipe', 'inherit'] }) : spawn(command[0], command.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${target} exited with ${code}`)));
    createInterface({ input: child.stdout }).once('line', resolve);
  });
  child.removeAllListeners('exit');
  const port = Number(/^listening (\d+)$/.exec(line)?.[1]);
  return {
    target,
    port,
    protocol: script === 'raw.mjs' ? 'raw' : 'phoenix',
    /** CPU microseconds the server has used so far. (`taskset` execs, so the pid is the server's.) */
    cpuMicros: () => cpuMicrosOf(child.pid),
    memory: async () => (await (await fetch(`http://127.0.0.1:${port}/__bench__/memory`)).json()).rss,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', resolve);
        child.kill('SIGKILL');
      }).then(() => {
        // The data file of a server with --storage sqlite (servers/livestate.mjs).
        for (const suffix of ['', '-wal', '-shm']) rmSync(join(tmpdir(), `livestate-bench-${child.pid}.db${suffix}`), { force: true });
      }),
  };
}

/** Busy CPU microseconds of the whole machine so far. */
export function machineBusyMicros() {
  const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).map(Number);
  const idle = fields[3] + fields[4];
  return (fields.reduce((sum, value) => sum + value, 0) - idle) * CLOCK_TICK_US;
}
