// A resident module for the toolkit's tests: one event, `apply`, runs a list of operations
// on every kind of tracked member, so that random sequences of them can be checked.
import { JSON } from 'json-as';
import { TrackedList, TrackedMap, TrackedObject, TrackedValue, commit, fail, loadState, readPayload, respondInitial } from '@livestate/guest';
export { livestate_resident } from '@livestate/guest';

@json
class Item {
  text: string = '';
  done: bool = false;
}

class Prefs extends TrackedObject {
  theme: TrackedValue<string> = new TrackedValue<string>(this, 'theme', 'light');
}

class State extends TrackedObject {
  items: TrackedList<Item> = new TrackedList<Item>(this, 'items');
  count: TrackedValue<i32> = new TrackedValue<i32>(this, 'count', 0);
  prefs: Prefs = new Prefs(this, 'pre/fs~');
  labels: TrackedMap<Item> = new TrackedMap<Item>(this, 'labels');
  featured: TrackedValue<Item> = new TrackedValue<Item>(this, 'featured', new Item());
}

/** One operation: `op` names it, `index` or `key` says where, `text` is the new text. */
@json
class Operation {
  op: string = '';
  index: i32 = 0;
  key: string = '';
  text: string = '';
}

@json
class Operations {
  ops: Operation[] = [];
  /** When not empty, the event fails with this message after the operations. */
  fail: string = '';
}

const state = new State();

function itemOf(text: string): Item {
  const item = new Item();
  item.text = text;
  return item;
}

export function init(): i32 {
  return respondInitial(new State());
}

export function livestate_load(): i32 {
  return loadState(state);
}

/** The resident state as JSON, for the tests to compare. */
export function dump(): i32 {
  return respondInitial(state);
}

export function apply(): i32 {
  const payload = readPayload<Operations>();
  for (let i = 0; i < payload.ops.length; i++) {
    const operation = payload.ops[i];
    const op = operation.op;
    if (op == 'push') state.items.push(itemOf(operation.text));
    else if (op == 'pushThenChange') {
      const item = itemOf(operation.text);
      state.items.push(item);
      item.done = true;
    } else if (op == 'edit') {
      const item = state.items.edit(operation.index);
      item.text = operation.text;
      item.done = !item.done;
    } else if (op == 'replaceAt') state.items.replaceAt(operation.index, itemOf(operation.text));
    else if (op == 'removeAt') state.items.removeAt(operation.index);
    else if (op == 'removeDone') state.items.removeWhere((item: Item): bool => item.done);
    else if (op == 'count') state.count.set(state.count.get() + 1);
    else if (op == 'feature') {
      const item = itemOf(operation.text);
      state.featured.set(item);
      item.done = true;
    } else if (op == 'theme') state.prefs.theme.set(operation.text);
    else if (op == 'label') state.labels.set(operation.key, itemOf(operation.text));
    else if (op == 'editLabel') state.labels.edit(operation.key).done = true;
    else if (op == 'unlabel') state.labels.delete(operation.key);
    else return fail(`unknown operation ${op}`);
  }
  if (payload.fail.length > 0) return fail(payload.fail);
  return commit();
}
