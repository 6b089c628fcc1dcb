import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** Servers still running when the test process exits (a timed-out test skips its cleanup) go with it. */
const running = new Set<ChildProcess>();
process.once('exit', () => running.forEach((child) => child.kill('SIGKILL')));

/** A port the kernel just handed out and released, for a child that cannot listen on port 0 itself. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/**
 * A real Debian `redis-server` on a free loopback port, in a temp dir of its own, with
 * persistence off (`--save '' --appendonly no`) so nothing from one run leaks into the next.
 * {@link restart} brings it back on the same port and dir: empty, unless it was started `durable`.
 */
export class RedisServer {
  private child: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly persistence: string[],
  ) {}

  /**
   * `durable` turns on the append-only file with an fsync per write, so a restart keeps
   * everything acknowledged. Another process may take the free port before Redis binds it:
   * then it tries a new one.
   */
  static async start({ durable = false } = {}, attempts = 3): Promise<RedisServer> {
    const dir = await mkdtemp(join(tmpdir(), 'livestate-redis-'));
    const persistence = durable ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
    for (let attempt = 1; ; attempt++) {
      const server = new RedisServer(await freePort(), dir, persistence);
      try {
        await server.spawn();
        return server;
      } catch (error) {
        if (attempt === attempts) throw error;
      }
    }
  }

  /** The running server's process id. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Stops the server (SIGTERM, or SIGKILL to lose it abruptly) and waits for it to exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.spawn();
  }

  async close(): Promise<void> {
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }

  private spawn(): Promise<void> {
    const child = spawn(
      '/usr/bin/redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '', ...this.persistence, '--protected-mode', 'no'],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    this.child = child;
    running.add(child);
    child.once('exit', () => running.delete(child));
    return new Promise((resolve, reject) => {
      const lines = createInterface({ input: child.stdout! });
      const output: string[] = [];
      child.once('exit', (code) => reject(new Error(`redis-server exited with ${code} before it was ready:\n${output.join('\n')}`)));
      lines.on('line', (line) => {
        output.push(line);
        if (/Ready to accept connections/.test(line)) resolve();
      });
    });
  }
}
