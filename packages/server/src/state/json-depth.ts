/**
 * How deeply payloads, and the states handlers return, may nest arrays and objects. Real data
 * stays within a few dozen levels, while encoding or copying a value takes a stack frame per
 * level: V8's `JSON.stringify` runs out of stack a few thousand levels down and
 * `structuredClone` sooner, so this leaves them, and handlers that recurse, a wide margin.
 */
export const MAX_JSON_DEPTH = 512;

/** Completes "<what> is ...". */
export const tooDeepText = (maxDepth: number): string => `nested more than ${maxDepth} levels deep`;

/** A value nested deeper than a limit, or circular (which nests without end). */
export class TooDeepError extends Error {
  override name = 'TooDeepError';

  constructor(maxDepth: number) {
    super(tooDeepText(maxDepth));
  }
}

/**
 * Whether a value nests arrays and objects more than `maxDepth` levels deep. It keeps its own
 * stack rather than recursing: `JSON.parse` builds values nested far deeper than the call
 * stack could walk.
 */
export function nestedDeeperThan(value: unknown, maxDepth: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const pending: object[] = [value];
  const depths: number[] = [1];
  const visit = (child: unknown, depth: number) => {
    if (typeof child === 'object' && child !== null) {
      pending.push(child);
      depths.push(depth);
    }
  };
  while (pending.length > 0) {
    const current = pending.pop()!;
    const depth = depths.pop()!;
    if (depth > maxDepth) return true;
    // Indexes and for-in rather than Object.values: no array per object, for every frame's payload.
    if (Array.isArray(current)) {
      for (let i = 0; i < current.length; i++) visit(current[i], depth + 1);
    } else {
      for (const key in current) visit((current as Record<string, unknown>)[key], depth + 1);
    }
  }
  return false;
}
