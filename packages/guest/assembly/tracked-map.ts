import { JSON } from 'json-as';
import { changes, ValueOf } from './change-log';
import { escapeKey } from './json-pointer';
import { ObjectMembers } from './json-scan';
import { Tracked } from './tracked';
import { TrackedObject } from './tracked-object';

/**
 * A member holding a JSON object used as a map from any string keys (user names, ids)
 * to values: `set` records an `add` at the key (which replaces a value already there),
 * `delete` a `remove`, `edit` a `replace`. Keys are escaped in paths as JSON Pointer needs.
 */
export class TrackedMap<T> extends Tracked {
  private entries: Map<string, T> = new Map<string, T>();

  constructor(parent: TrackedObject, key: string) {
    super(parent, key);
  }

  get size(): i32 {
    return this.entries.size;
  }

  has(key: string): bool {
    return this.entries.has(key);
  }

  /** The value at `key`, to read; there must be one (see `has`). */
  get(key: string): T {
    this.checkKey(key);
    return this.entries.get(key);
  }

  /** The keys, in the order they were added. */
  keys(): string[] {
    return this.entries.keys();
  }

  /** The value at `key`, to change: records a `replace` with the value as it is when the patch is written. */
  edit(key: string): T {
    this.checkKey(key);
    const value = this.entries.get(key);
    this.touch();
    changes.replace(this.entryPath(key), new ValueOf<T>(value));
    return value;
  }

  set(key: string, value: T): void {
    this.touch();
    this.entries.set(key, value);
    changes.add(this.entryPath(key), new ValueOf<T>(value));
  }

  /** Removes the value at `key`; false when there was none (and nothing is recorded). */
  delete(key: string): bool {
    if (!this.entries.has(key)) return false;
    this.touch();
    this.entries.delete(key);
    changes.remove(this.entryPath(key));
    return true;
  }

  toJson(): string {
    const keys = this.entries.keys();
    const parts = new Array<string>(keys.length);
    for (let i = 0; i < keys.length; i++) {
      parts[i] = JSON.stringify<string>(keys[i]) + ':' + JSON.stringify<T>(this.entries.get(keys[i]));
    }
    return '{' + parts.join(',') + '}';
  }

  load(json: string): void {
    this.entries = new Map<string, T>();
    const members = new ObjectMembers(json);
    while (members.next()) this.entries.set(members.key, JSON.parse<T>(members.value));
  }

  reset(): void {
    this.entries = new Map<string, T>();
  }

  private entryPath(key: string): string {
    return this.path + '/' + escapeKey(key);
  }

  private checkKey(key: string): void {
    if (!this.entries.has(key)) throw new Error(`no key ${JSON.stringify<string>(key)} in ${this.path}`);
  }
}
