// The todo list's event handler, compiled to WebAssembly by `pnpm build`
// (livestate-guest handler/todo.ts -o build/todo.wasm) and run sandboxed by the server.
import { JSON } from 'json-as';
import { Event, ReplyEvent, fail, respond, respondState } from '@livestate/guest';
export { livestate_envelope } from '@livestate/guest';

@json
class Todo {
  id: i32 = 0;
  text: string = '';
  done: bool = false;
}

@json
class TodoState {
  todos: Todo[] = [];
  nextId: i32 = 1;
}

@json
class AddTodo {
  todo: string = '';
}

@json
class TodoRef {
  id: i32 = 0;
}

@json
class NoPayload {}

export function init(): i32 {
  return respondState(new TodoState());
}

export function addTodo(): i32 {
  const event = Event.read<AddTodo, TodoState>();
  const text = event.payload.todo.trim();
  if (text.length == 0) return fail('A todo needs some text.');
  const state = event.state;
  const todo = new Todo();
  todo.id = state.nextId++;
  todo.text = text;
  state.todos.push(todo);
  const added = new TodoRef();
  added.id = todo.id;
  return respond(state, [ReplyEvent.of<TodoRef>('todo-added', added)]);
}

export function toggleTodo(): i32 {
  const event = Event.read<TodoRef, TodoState>();
  const todos = event.state.todos;
  for (let i = 0; i < todos.length; i++) {
    if (todos[i].id == event.payload.id) todos[i].done = !todos[i].done;
  }
  return respond(event.state);
}

export function removeTodo(): i32 {
  const event = Event.read<TodoRef, TodoState>();
  const kept: Todo[] = [];
  const todos = event.state.todos;
  for (let i = 0; i < todos.length; i++) if (todos[i].id != event.payload.id) kept.push(todos[i]);
  event.state.todos = kept;
  return respond(event.state);
}

export function clearCompleted(): i32 {
  const event = Event.read<NoPayload, TodoState>();
  const kept: Todo[] = [];
  const todos = event.state.todos;
  for (let i = 0; i < todos.length; i++) if (!todos[i].done) kept.push(todos[i]);
  event.state.todos = kept;
  return respond(event.state);
}
