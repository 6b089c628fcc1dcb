import { JSON } from 'json-as';

const QUOTE: i32 = 0x22;
const BACKSLASH: i32 = 0x5c;
const COLON: i32 = 0x3a;
const COMMA: i32 = 0x2c;
const OPEN_BRACE: i32 = 0x7b;
const CLOSE_BRACE: i32 = 0x7d;
const OPEN_BRACKET: i32 = 0x5b;
const CLOSE_BRACKET: i32 = 0x5d;

/*
 * Finding where the values of a JSON text begin and end, without parsing them, so that
 * each part can be parsed on its own into its own type. The text is trusted to be valid
 * JSON (the host produced it); only what tells values apart is looked at.
 */

function isSpace(c: i32): bool {
  return c == 0x20 || c == 0x0a || c == 0x0d || c == 0x09;
}

/** The index of the first character at or after `from` that is not JSON whitespace. */
export function skipSpace(json: string, from: i32): i32 {
  let i = from;
  while (i < json.length && isSpace(json.charCodeAt(i))) i++;
  return i;
}

/** The index just past the JSON value that starts at `start`. */
export function valueEnd(json: string, start: i32): i32 {
  // Read straight from the string's UTF-16 code units: a state's text can be megabytes long.
  const chars = changetype<usize>(json);
  const length = json.length;
  let depth = 0;
  let inString = false;
  for (let i = start; i < length; i++) {
    const c = <i32>load<u16>(chars + (<usize>i << 1));
    if (inString) {
      if (c == BACKSLASH) i++;
      else if (c == QUOTE) {
        inString = false;
        if (depth == 0) return i + 1;
      }
    } else if (c == QUOTE) {
      inString = true;
    } else if (c == OPEN_BRACE || c == OPEN_BRACKET) {
      depth++;
    } else if (c == CLOSE_BRACE || c == CLOSE_BRACKET) {
      if (depth == 0) return i;
      if (--depth == 0) return i + 1;
    } else if (depth == 0 && (c == COMMA || isSpace(c))) {
      return i;
    }
  }
  return length;
}

/** The members of a JSON object text, one at a time: `while (members.next()) use(members.key, members.value)`. */
export class ObjectMembers {
  /** The current member's key, unescaped. */
  key: string = '';
  /** The current member's value as JSON text. */
  value: string = '';
  private at: i32;

  constructor(private json: string) {
    this.at = skipSpace(json, 0);
    if (this.at >= json.length || json.charCodeAt(this.at) != OPEN_BRACE) throw new Error('expected a JSON object');
    this.at++;
  }

  /** Moves to the next member; false after the last. */
  next(): bool {
    const json = this.json;
    let i = skipSpace(json, this.at);
    if (i < json.length && json.charCodeAt(i) == COMMA) i = skipSpace(json, i + 1);
    if (i >= json.length || json.charCodeAt(i) == CLOSE_BRACE) return false;
    const keyEnd = valueEnd(json, i);
    const keyJson = json.slice(i, keyEnd);
    this.key = keyJson.includes('\\') ? JSON.parse<string>(keyJson) : keyJson.slice(1, keyJson.length - 1);
    i = skipSpace(json, keyEnd);
    if (i >= json.length || json.charCodeAt(i) != COLON) throw new Error('expected a colon after a key in a JSON object');
    const valueStart = skipSpace(json, i + 1);
    this.at = valueEnd(json, valueStart);
    this.value = json.slice(valueStart, this.at);
    return true;
  }
}
