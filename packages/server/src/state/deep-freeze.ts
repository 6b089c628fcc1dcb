import { TooDeepError } from './json-depth.js';

/**
 * Freezes a value and everything reachable from it. Subtrees that are already frozen (the
 * parts a new state shares with the previous one) are not walked again, so the cost is
 * proportional to what a handler created. With `maxDepth`, a value whose unfrozen part nests
 * deeper (or is circular) is refused with a {@link TooDeepError}; children are frozen before
 * their parent, so even then every frozen object's whole subtree is frozen.
 */
export function deepFreeze<T>(value: T, maxDepth = Infinity): T {
  freeze(value, maxDepth, maxDepth);
  return value;
}

function freeze(value: unknown, levelsLeft: number, maxDepth: number): void {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return;
  if (levelsLeft === 0) throw new TooDeepError(maxDepth);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) freeze(value[i], levelsLeft - 1, maxDepth);
  } else {
    for (const key of Object.keys(value)) freeze((value as Record<string, unknown>)[key], levelsLeft - 1, maxDepth);
  }
  Object.freeze(value);
}
