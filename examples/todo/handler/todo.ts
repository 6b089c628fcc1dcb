// The todo list's event handler, compiled to WebAssembly by `pnpm build`
// (livestate-guest handler/todo.ts -o build/todo.wasm) and run sandboxed by the server.
// Its state is resident: the module keeps its topic's todos between events, and each
// event returns the patch of what it changed, recorded by the tracked members.
import { JSON } from 'json-as';
import { ReplyEvent, TrackedList, TrackedObject, TrackedValue, commit, fail, loadState, readPayload, respondInitial } from '@livestate/guest';
export { livestate_resident } from '@livestate/guest';

@json
class Todo {
  id: i32 = 0;
  text: string = '';
  done: bool = false;
}

class TodoState extends TrackedObject {
  todos: TrackedList<Todo> = new TrackedList<Todo>(this, 'todos');
  nextId: TrackedValue<i32> = new TrackedValue<i32>(this, 'nextId', 1);
}

@json
class AddTodo {
  todo: string = '';
}

@json
class TodoRef {
  id: i32 = 0;
}

/** This topic's state, loaded by the server before the first event. */
const state = new TodoState();

export function init(): i32 {
  return respondInitial(new TodoState());
}

export function livestate_load(): i32 {
  return loadState(state);
}

export function addTodo(): i32 {
  const text = readPayload<AddTodo>().todo.trim();
  if (text.length == 0) return fail('A todo needs some text.');
  const todo = new Todo();
  todo.id = state.nextId.get();
  todo.text = text;
  state.todos.push(todo);
  state.nextId.set(todo.id + 1);
  const added = new TodoRef();
  added.id = todo.id;
  return commit([ReplyEvent.of<TodoRef>('todo-added', added)]);
}

export function toggleTodo(): i32 {
  const id = readPayload<TodoRef>().id;
  const todos = state.todos;
  for (let i = 0; i < todos.length; i++) {
    if (todos.at(i).id != id) continue;
    const todo = todos.edit(i);
    todo.done = !todo.done;
  }
  return commit();
}

export function removeTodo(): i32 {
  const id = readPayload<TodoRef>().id;
  const todos = state.todos;
  for (let i = todos.length - 1; i >= 0; i--) if (todos.at(i).id == id) todos.removeAt(i);
  return commit();
}

export function clearCompleted(): i32 {
  state.todos.removeWhere((todo: Todo): bool => todo.done);
  return commit();
}
