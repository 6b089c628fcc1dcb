const QUOTE: i32 = 0x22;
const BACKSLASH: i32 = 0x5c;
const COMMA: i32 = 0x2c;

/**
 * The index of the comma that separates the two members of the JSON array
 * `[a, b]`, found by skipping strings and nested brackets, so that each member
 * can be parsed on its own into its own type.
 */
export function splitPair(json: string): i32 {
  let depth = 0;
  let inString = false;
  for (let i = 1; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (inString) {
      if (c == BACKSLASH) i++;
      else if (c == QUOTE) inString = false;
    } else if (c == QUOTE) {
      inString = true;
    } else if (c == 0x5b || c == 0x7b) {
      depth++;
    } else if (c == 0x5d || c == 0x7d) {
      depth--;
    } else if (c == COMMA && depth == 0) {
      return i;
    }
  }
  throw new Error('expected the input [payload, state]');
}
