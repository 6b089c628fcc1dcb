/**
 * Checks for the options a user passes in, each throwing a `TypeError` that names
 * the option, what it must be and what it got, instead of a failure deep inside.
 */

function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'object' || typeof value === 'function' || typeof value === 'symbol') return typeof value;
  return `${typeof value} ${String(value)}`;
}

function fail(name: string, expected: string, value: unknown): never {
  throw new TypeError(`invalid ${name}: expected ${expected}, got ${describe(value)}`);
}

export function checkObject(value: unknown, name: string): asserts value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(name, 'an object', value);
}

export function checkArray(value: unknown, name: string): asserts value is readonly unknown[] {
  if (!Array.isArray(value)) fail(name, 'an array', value);
}

export function checkFunction(value: unknown, name: string): void {
  if (typeof value !== 'function') fail(name, 'a function', value);
}

/** `undefined` passes: the option takes its default. */
export function checkOptionalFunction(value: unknown, name: string): void {
  if (value !== undefined) checkFunction(value, name);
}

export function checkOptionalString(value: unknown, name: string): void {
  if (value !== undefined && typeof value !== 'string') fail(name, 'a string', value);
}

export function checkOptionalPositiveInteger(value: unknown, name: string): void {
  if (value !== undefined && !(Number.isSafeInteger(value) && (value as number) > 0)) fail(name, 'a positive integer', value);
}

export function checkOptionalNonNegativeInteger(value: unknown, name: string): void {
  if (value !== undefined && !(Number.isSafeInteger(value) && (value as number) >= 0)) fail(name, 'a non-negative integer', value);
}
