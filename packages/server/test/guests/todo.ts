// build: todo.wasm
// build: todo-portable.wasm --portable
// The todo handler, written with @livestate/guest: the WebAssembly twin of support/todo-handler.ts.
import { Event, ReplyEvent, fail, joinParams, respond, respondState } from '@livestate/guest';
import { AddTodo, JoinParams, Todo, TodoRef, TodoState } from './todo-model';
export { livestate_envelope } from '@livestate/guest';

export function init(): i32 {
  const state = new TodoState();
  state.owner = joinParams<JoinParams>().owner;
  return respondState(state);
}

export function addTodo(): i32 {
  const event = Event.read<AddTodo, TodoState>();
  const text = event.payload.todo;
  if (text.trim().length == 0) return fail('a todo needs some text');
  const state = event.state;
  const todo = new Todo();
  todo.id = state.nextId;
  todo.text = text;
  state.todos.push(todo);
  state.nextId += 1;
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
  for (let i = 0; i < todos.length; i++) {
    if (todos[i].id != event.payload.id) kept.push(todos[i]);
  }
  event.state.todos = kept;
  return respond(event.state);
}
