/** Runs tasks one at a time, in the order they were queued, whether they are sync or async. */
export class TaskQueue {
  private tail: Promise<unknown>;

  /** `after`: work that must finish before the first task starts. */
  constructor(after: Promise<unknown> = Promise.resolve()) {
    this.tail = after.catch(() => undefined);
  }

  run<T>(task: () => T | Promise<T>): Promise<T> {
    const result = this.tail.then(task);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
