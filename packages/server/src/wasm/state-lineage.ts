/**
 * Tells which state a call is for, without the store saying so: a handler's result
 * becomes the state its next call on that store receives (the store keeps the very
 * object), so following each returned object from call to call gives one line per
 * store: per topic on a topic-scoped route, per connection on a connection-scoped one.
 * A state object never seen before (loaded from storage, built by other code) starts
 * a line of its own, so a wrong guess can only cost an extra reset, never mix states.
 */
export class StateLineage {
  private readonly lines = new WeakMap<object, string>();
  private next = 1;

  /** A new line, for a state that `init` is about to create. */
  start(): string {
    return `state ${this.next++}`;
  }

  /** The line of a state a call receives. */
  of(state: object): string {
    let line = this.lines.get(state);
    if (line === undefined) {
      line = this.start();
      this.lines.set(state, line);
    }
    return line;
  }

  /** Records that a call's result continues `line`. */
  extend(line: string, result: unknown): void {
    if (typeof result === 'object' && result !== null) this.lines.set(result, line);
  }
}
