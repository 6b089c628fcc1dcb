import { JSON } from 'json-as';

/** A patch operation's value, written as JSON only when the patch is. */
export abstract class PatchValue {
  abstract toJson(): string;
}

/**
 * A value kept by reference and serialized when the patch is written, so that an item
 * changed after it was recorded (an `edit`, a `push` then a change) goes out as it ends up.
 */
export class ValueOf<T> extends PatchValue {
  constructor(private value: T) {
    super();
  }

  toJson(): string {
    return JSON.stringify<T>(this.value);
  }
}

/** A value already written as JSON. */
export class JsonText extends PatchValue {
  constructor(private json: string) {
    super();
  }

  toJson(): string {
    return this.json;
  }
}

/**
 * The JSON Patch operations (RFC 6902) recorded by the tracked members of the resident
 * state since it was loaded or last committed, in the order they happened.
 */
export class ChangeLog {
  /**
   * Off until a state is loaded: before that the host holds no state to patch, and `init`
   * can build its initial state (say a thousand pushes) without recording a thing.
   */
  recording: bool = false;
  /** Each operation up to its value: `{"op":"add","path":"/todos/-"`. */
  private heads: string[] = [];
  private values: Array<PatchValue | null> = [];
  private lastPath: string = '';

  add(path: string, value: PatchValue): void {
    this.record('add', path, value);
  }

  replace(path: string, value: PatchValue): void {
    // A value set again right after it was set or added (a counter in a loop, an item edited
    // twice) takes the place of that operation's value.
    const last = this.values.length - 1;
    if (this.recording && last >= 0 && this.values[last] !== null && this.lastPath == path) {
      this.values[last] = value;
      return;
    }
    this.record('replace', path, value);
  }

  remove(path: string): void {
    this.record('remove', path, null);
  }

  /** The operations as a JSON array, serializing their values now; the log is then empty. */
  take(): string {
    const parts = new Array<string>(this.heads.length);
    for (let i = 0; i < parts.length; i++) {
      const value = this.values[i];
      parts[i] = value === null ? this.heads[i] + '}' : this.heads[i] + ',"value":' + value.toJson() + '}';
    }
    this.clear();
    return '[' + parts.join(',') + ']';
  }

  /** Forgets the operations recorded so far. */
  clear(): void {
    this.heads = [];
    this.values = [];
    this.lastPath = '';
  }

  private record(op: string, path: string, value: PatchValue | null): void {
    if (!this.recording) return;
    this.heads.push('{"op":"' + op + '","path":' + JSON.stringify<string>(path));
    this.values.push(value);
    this.lastPath = path;
  }
}

/** The change log of this module's resident state (a resident module holds one state). */
export const changes = new ChangeLog();
