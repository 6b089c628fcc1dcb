import { changes, JsonText } from './change-log';
import { escapeKey } from './json-pointer';
import { TrackedObject } from './tracked-object';

/**
 * A member of the resident state that records its own changes in the change log as
 * JSON Patch operations at its JSON Pointer path. It registers with the object it
 * belongs to, which serializes and loads it under `key`.
 */
export abstract class Tracked {
  /** Its JSON Pointer from the state's root, keys escaped. */
  readonly path: string;
  /**
   * Whether the host's copy of the state has this member. One loaded from a state that
   * lacks it (written by an older version of the module) is added before its first change.
   */
  present: bool = true;

  constructor(
    private parent: TrackedObject | null,
    /** Its key in the object it belongs to. */
    readonly key: string,
  ) {
    this.path = parent === null ? '' : parent.path + '/' + escapeKey(key);
    if (parent !== null) parent.adopt(this);
  }

  /** Its value as JSON. */
  abstract toJson(): string;

  /** Takes its value from the JSON text of the state's member. */
  abstract load(json: string): void;

  /** Goes back to the value it was constructed with, for a state that lacks this member. */
  abstract reset(): void;

  /** Called before each change it records: makes sure the host's copy has it. */
  protected touch(): void {
    const parent = this.parent;
    if (parent !== null) parent.touch();
    if (this.present) return;
    changes.add(this.path, new JsonText(this.toJson()));
    this.present = true;
  }
}
