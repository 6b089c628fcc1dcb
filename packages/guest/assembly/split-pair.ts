import { skipSpace, valueEnd } from './json-scan';

/**
 * The index of the comma that separates the two members of the JSON array
 * `[a, b]`, so that each member can be parsed on its own into its own type.
 */
export function splitPair(json: string): i32 {
  const comma = skipSpace(json, valueEnd(json, skipSpace(json, 1)));
  if (comma >= json.length || json.charCodeAt(comma) != 0x2c) throw new Error('expected the input [payload, state]');
  return comma;
}
