/** JSON values as handlers produce them, and structural equality over them. */

export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;
export type JsonObject = { [key: string]: JsonValue };

export const isJsonObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Deep equality that stops at shared references, so unchanged subtrees cost nothing. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  // Counts keys while walking them instead of listing both objects' keys: comparing two
  // states parsed from text visits every object in them, so this runs once per object.
  const aObject = a as JsonObject;
  const bObject = b as JsonObject;
  let unmatched = 0;
  for (const key in aObject) {
    const value = memberOf(aObject, key);
    if (value === undefined) continue;
    unmatched++;
    if (!jsonEqual(value, memberOf(bObject, key))) return false;
  }
  for (const key in bObject) if (memberOf(bObject, key) !== undefined) unmatched--;
  return unmatched === 0;
}

/** Keys whose value survives JSON encoding (`undefined` members are dropped by JSON.stringify). */
export const definedKeys = (object: JsonObject): string[] =>
  Object.keys(object).filter((key) => object[key] !== undefined);

/**
 * An own member, or `undefined`: `constructor`, `toString` or `__proto__` are keys
 * like any other in JSON, never the members every object inherits.
 */
export const memberOf = (object: JsonObject, key: string): JsonValue | undefined =>
  Object.hasOwn(object, key) ? object[key] : undefined;
