import { JSON } from 'json-as';
import { changes, ValueOf } from './change-log';
import { Tracked } from './tracked';
import { TrackedObject } from './tracked-object';

/** A member holding one value (a number, a string, a `@json` object...): `set` records a `replace`. */
export class TrackedValue<T> extends Tracked {
  private value: T;

  constructor(
    parent: TrackedObject,
    key: string,
    private initial: T,
  ) {
    super(parent, key);
    this.value = initial;
  }

  get(): T {
    return this.value;
  }

  set(value: T): void {
    this.touch();
    this.value = value;
    changes.replace(this.path, new ValueOf<T>(value));
  }

  toJson(): string {
    return JSON.stringify<T>(this.value);
  }

  load(json: string): void {
    this.value = JSON.parse<T>(json);
  }

  reset(): void {
    this.value = this.initial;
  }
}
