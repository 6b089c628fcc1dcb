/**
 * Freezes a value and everything reachable from it. Subtrees that are already
 * frozen (the parts a new state shares with the previous one) are not walked again,
 * so the cost is proportional to what a handler created.
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  Object.freeze(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) deepFreeze(value[i]);
  } else {
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}
