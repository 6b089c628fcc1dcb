import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { CLI } from './cli.js';
import { LineLog } from './line-log.js';

/** Nodes still running when the test process exits (a timed-out test skips its cleanup) go with it. */
const running = new Set<ChildProcess>();
process.once('exit', () => running.forEach((child) => child.kill('SIGKILL')));

/** One `livestate serve --redis` child process: its URL, its node id, and its log lines as they come. */
export class LiveStateNode extends LineLog {
  readonly exited: Promise<number | null>;

  private constructor(
    readonly child: ChildProcess,
    readonly url: string,
    readonly nodeId: string,
    lines: string[],
  ) {
    super();
    this.lines.push(...lines);
    this.exited = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
      else child.once('exit', (code) => resolve(code));
    });
  }

  /** Starts a node and resolves once it prints its ready line. */
  static start(args: string[]): Promise<LiveStateNode> {
    const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    child.once('exit', () => running.delete(child));
    const logs: string[] = [];
    let node: LiveStateNode | undefined;
    createInterface({ input: child.stderr! }).on('line', (line) => {
      if (process.env.LIVESTATE_TEST_LOGS) console.error(`[node ${child.pid}] ${line}`);
      if (node) node.add(line);
      else logs.push(line);
    });
    return new Promise((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`livestate exited with ${code} before it was ready:\n${logs.join('\n')}`)));
      createInterface({ input: child.stdout! }).once('line', (line) => {
        const url = /^LiveState listening on (ws:\/\/\S+)$/.exec(line)?.[1];
        const nodeId = logs.map((log) => /cluster: node (\S+) using Redis/.exec(log)?.[1]).find(Boolean);
        if (!url || !nodeId) reject(new Error(`not a cluster node's start: ${line}\n${logs.join('\n')}`));
        else resolve((node = new LiveStateNode(child, url, nodeId, logs)));
      });
    });
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    this.child.kill(signal);
  }
}

/** `count` nodes of one cluster on `redisUrl`, each serving `channels` (`--channel` specs). */
export function startNodes(count: number, redisUrl: string, channels: string[], extra: string[] = []): Promise<LiveStateNode[]> {
  const args = ['--redis', redisUrl, ...channels.flatMap((channel) => ['--channel', channel]), ...extra];
  return Promise.all(Array.from({ length: count }, () => LiveStateNode.start(args)));
}
