// build: todo-classic.wasm --max-memory 1024
// build: todo-portable.wasm --portable --max-memory 1024
// The benchmarks' todo handler in the classic convention (each event gets `[payload, state]`
// and returns the whole new state), the twin of the resident todo.ts: join params `prefill`
// (todos to start with) and `limit` (drop the oldest todo past this many, so a long run
// measures the protocol, not a growing list). handlers/todo.mjs is its twin in JavaScript.
import { JSON } from 'json-as';
import { Event, ReplyEvent, fail, joinParams, respond, respondState } from '@livestate/guest';
import { AddTodo, Added, Params, Todo } from './todo-model';
export { livestate_envelope } from '@livestate/guest';

@json
class TodoState {
  todos: Todo[] = [];
  nextId: i32 = 1;
  limit: i32 = 0;
}

export function init(): i32 {
  const params = joinParams<Params>();
  const state = new TodoState();
  state.limit = params.limit;
  for (let i = 0; i < params.prefill; i++) {
    const todo = new Todo();
    todo.id = state.nextId++;
    todo.text = `todo number ${todo.id}`;
    state.todos.push(todo);
  }
  return respondState(state);
}

export function addTodo(): i32 {
  const event = Event.read<AddTodo, TodoState>();
  if (event.payload.todo.trim().length == 0) return fail('a todo needs some text');
  const state = event.state;
  const todo = new Todo();
  todo.id = state.nextId++;
  todo.text = event.payload.todo;
  state.todos.push(todo);
  if (state.limit > 0 && state.todos.length > state.limit) state.todos.shift();
  const added = new Added();
  added.id = todo.id;
  return respond(state, [ReplyEvent.of<Added>('todo-added', added)]);
}
