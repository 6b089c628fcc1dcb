import { JSON } from 'json-as';
import { ObjectMembers } from './json-scan';
import { Tracked } from './tracked';

/**
 * A JSON object whose members are tracked: the resident state itself, or an object
 * nested in it. Declare the members as fields built with `this` and their key:
 *
 *     class State extends TrackedObject {
 *       todos: TrackedList<Todo> = new TrackedList<Todo>(this, 'todos');
 *     }
 *
 * The state is `new State()`; a nested object is `new Settings(this, 'settings')`.
 */
export class TrackedObject extends Tracked {
  private members: Tracked[] = [];

  constructor(parent: TrackedObject | null = null, key: string = '') {
    super(parent, key);
  }

  /** @internal Called by each member as it is constructed. */
  adopt(member: Tracked): void {
    this.members.push(member);
  }

  toJson(): string {
    const parts = new Array<string>(this.members.length);
    for (let i = 0; i < parts.length; i++) {
      const member = this.members[i];
      parts[i] = JSON.stringify<string>(member.key) + ':' + member.toJson();
    }
    return '{' + parts.join(',') + '}';
  }

  /** Takes the members' values from a JSON object; a member the object lacks gets its initial value. */
  load(json: string): void {
    const members = this.members;
    for (let i = 0; i < members.length; i++) members[i].present = false;
    const found = new ObjectMembers(json);
    while (found.next()) {
      const member = this.member(found.key);
      if (member === null) continue;
      member.load(found.value);
      member.present = true;
    }
    for (let i = 0; i < members.length; i++) {
      if (members[i].present) continue;
      members[i].reset();
    }
  }

  reset(): void {
    const members = this.members;
    for (let i = 0; i < members.length; i++) {
      members[i].reset();
      // Added with this object, when it is.
      members[i].present = true;
    }
  }

  private member(key: string): Tracked | null {
    const members = this.members;
    for (let i = 0; i < members.length; i++) if (members[i].key == key) return members[i];
    return null;
  }
}
