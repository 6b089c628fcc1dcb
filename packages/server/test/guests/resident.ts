// build: resident.wasm
// The todo handler of todo.ts with resident state: the module keeps its topic's state
// and returns the patch of each event.
import { ReplyEvent, TrackedList, TrackedObject, TrackedValue, commit, fail, joinParams, loadState, readPayload, respondState } from '@livestate/guest';
import { AddTodo, JoinParams, Todo, TodoRef, TodoState } from './todo-model';
export { livestate_resident } from '@livestate/guest';

/** The resident state. `owner` is set by init only, so it is not tracked: the host keeps it. */
class ResidentTodos extends TrackedObject {
  todos: TrackedList<Todo> = new TrackedList<Todo>(this, 'todos');
  nextId: TrackedValue<i32> = new TrackedValue<i32>(this, 'nextId', 1);
}

const state = new ResidentTodos();

export function init(): i32 {
  const initial = new TodoState();
  initial.owner = joinParams<JoinParams>().owner;
  return respondState(initial);
}

export function livestate_load(): i32 {
  return loadState(state);
}

export function addTodo(): i32 {
  const text = readPayload<AddTodo>().todo;
  if (text.trim().length == 0) return fail('a todo needs some text');
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
