// build: todo.wasm --max-memory 1024
// The benchmarks' todo handler with resident state (the module keeps its topic's todos and
// returns each event's patch): join params `prefill` (todos to start with) and `limit` (drop
// the oldest todo past this many, so a long run measures the protocol, not a growing list).
// todo-classic.ts is its twin in the classic convention, handlers/todo.mjs in JavaScript.
import { ReplyEvent, TrackedList, TrackedObject, TrackedValue, commit, fail, joinParams, loadState, readPayload, respondInitial } from '@livestate/guest';
import { AddTodo, Added, Params, Todo } from './todo-model';
export { livestate_resident } from '@livestate/guest';

class TodoState extends TrackedObject {
  todos: TrackedList<Todo> = new TrackedList<Todo>(this, 'todos');
  nextId: TrackedValue<i32> = new TrackedValue<i32>(this, 'nextId', 1);
  limit: TrackedValue<i32> = new TrackedValue<i32>(this, 'limit', 0);
}

const state = new TodoState();

export function init(): i32 {
  const params = joinParams<Params>();
  const initial = new TodoState();
  initial.limit.set(params.limit);
  for (let id = 1; id <= params.prefill; id++) {
    const todo = new Todo();
    todo.id = id;
    todo.text = `todo number ${id}`;
    initial.todos.push(todo);
  }
  initial.nextId.set(params.prefill + 1);
  return respondInitial(initial);
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
  const limit = state.limit.get();
  if (limit > 0 && state.todos.length > limit) state.todos.removeAt(0);
  const added = new Added();
  added.id = todo.id;
  return commit([ReplyEvent.of<Added>('todo-added', added)]);
}
