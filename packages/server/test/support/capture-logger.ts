import type { Logger } from '@livestate/server';

/** A logger that keeps its lines, so tests can wait for one. */
export class CaptureLogger implements Logger {
  readonly lines: string[] = [];
  private waiters: Array<() => void> = [];

  info(message: string): void {
    this.add(`info ${message}`);
  }
  warn(message: string): void {
    this.add(`warn ${message}`);
  }
  error(message: string): void {
    this.add(`error ${message}`);
  }

  async waitFor(pattern: RegExp): Promise<string> {
    for (;;) {
      const line = this.lines.find((candidate) => pattern.test(candidate));
      if (line) return line;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  private add(line: string): void {
    this.lines.push(line);
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
