import { inspect } from 'node:util';

/**
 * What went wrong, as one line of text, for any thrown value: an `Error`'s message,
 * a string as it is, anything else (a BigInt, a circular or null-prototype object,
 * a Symbol) as `util.inspect` shows it. It never throws, even for values whose
 * getters, `toString` or proxy traps do, because it runs on the paths that keep
 * a failure from escaping to the process.
 */
export function errorText(error: unknown): string {
  try {
    if (typeof error === 'string') return error;
    if (error instanceof Error && typeof error.message === 'string') return error.message;
    return inspect(error, { depth: 2, breakLength: Infinity });
  } catch {
    return 'a thrown value that cannot be described';
  }
}

/** `value instanceof type`, or `false` where asking throws (a proxy whose traps do). */
export function isInstance<T>(value: unknown, type: abstract new (...args: any[]) => T): value is T {
  try {
    return value instanceof type;
  } catch {
    return false;
  }
}

/** The stack of a thrown `Error`, for logs; `undefined` for anything else or when reading it throws. */
export function errorStack(error: unknown): string | undefined {
  try {
    return error instanceof Error && typeof error.stack === 'string' ? error.stack : undefined;
  } catch {
    return undefined;
  }
}
