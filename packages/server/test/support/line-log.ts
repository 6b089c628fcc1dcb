/** Lines as they come, and a way to wait for one: what tests read of a logger or a child process. */
export class LineLog {
  readonly lines: string[] = [];
  private waiters: Array<() => void> = [];

  /** The first line (already there or still to come) that matches. */
  async waitFor(pattern: RegExp): Promise<string> {
    for (;;) {
      const line = this.lines.find((candidate) => pattern.test(candidate));
      if (line) return line;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  protected add(line: string): void {
    this.lines.push(line);
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
