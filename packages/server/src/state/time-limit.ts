/**
 * Runs a handler call and settles with it, or rejects with `timeoutError()` when it
 * has not settled within `ms`. A call that settles later is ignored (its rejection
 * too), so one that never settles cannot hold its topic's queue forever. A
 * synchronous call cannot be interrupted: it runs to its end on the event loop.
 */
export function withTimeLimit<T>(run: () => T | Promise<T>, ms: number, timeoutError: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(timeoutError()), ms);
    Promise.resolve()
      .then(run)
      .then(resolve, reject)
      .finally(() => clearTimeout(timer));
  });
}
