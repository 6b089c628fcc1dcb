import { JSON } from 'json-as';
import { changes, ValueOf } from './change-log';
import { Tracked } from './tracked';
import { TrackedObject } from './tracked-object';

/**
 * A member holding a JSON array of items (`@json` objects, strings, numbers...). Each
 * change records one operation at the item's index as it is at that moment: `push`
 * an `add` at `/-`, `removeAt` a `remove`, `replaceAt` and `edit` a `replace` of the
 * whole item. Changing an item got from `at` records nothing: use `edit` for that.
 */
export class TrackedList<T> extends Tracked {
  private items: T[] = [];

  constructor(parent: TrackedObject, key: string) {
    super(parent, key);
  }

  get length(): i32 {
    return this.items.length;
  }

  /** The item at `index`, to read. */
  at(index: i32): T {
    return this.items[index];
  }

  /**
   * The item at `index`, to change: records a `replace` of it whose value is the item
   * as it is when the patch is written, so change it as much as needed in this event.
   */
  edit(index: i32): T {
    this.checkIndex(index);
    const item = this.items[index];
    this.touch();
    changes.replace(this.itemPath(index), new ValueOf<T>(item));
    return item;
  }

  push(item: T): void {
    this.touch();
    this.items.push(item);
    changes.add(this.path + '/-', new ValueOf<T>(item));
  }

  replaceAt(index: i32, item: T): void {
    this.checkIndex(index);
    this.touch();
    this.items[index] = item;
    changes.replace(this.itemPath(index), new ValueOf<T>(item));
  }

  /** Removes the item at `index` and returns it. */
  removeAt(index: i32): T {
    this.checkIndex(index);
    this.touch();
    const item = this.items[index];
    this.items.splice(index, 1);
    changes.remove(this.itemPath(index));
    return item;
  }

  /**
   * Removes every item for which `test` returns true, in one pass, and returns how many
   * it removed. `test` is a plain function: AssemblyScript functions capture no locals.
   */
  removeWhere(test: (item: T) => bool): i32 {
    const items = this.items;
    let kept = 0;
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      if (test(item)) {
        this.touch();
        changes.remove(this.itemPath(kept));
      } else {
        items[kept++] = item;
      }
    }
    const removed = items.length - kept;
    items.length = kept;
    return removed;
  }

  toJson(): string {
    return JSON.stringify<T[]>(this.items);
  }

  load(json: string): void {
    this.items = JSON.parse<T[]>(json);
  }

  reset(): void {
    this.items = [];
  }

  private itemPath(index: i32): string {
    return this.path + '/' + index.toString();
  }

  private checkIndex(index: i32): void {
    if (index < 0 || index >= this.items.length) throw new RangeError(`no item ${index} in ${this.path} (length ${this.items.length})`);
  }
}
