// The benchmarks' todo handler in TypeScript, compiled to a WebAssembly Component by
// `node bench/build.mjs` (livestate-guest-js): the twin of handlers/todo.mjs and handlers/todo.ts.
import { reply } from '@livestate/guest-js';

interface Todo {
  id: number;
  text: string;
  done: boolean;
}

interface TodoState {
  todos: Todo[];
  nextId: number;
  limit: number;
}

export function init({ prefill = 0, limit = 0 }: { prefill?: number; limit?: number }): TodoState {
  const count = Number(prefill);
  return {
    todos: Array.from({ length: count }, (_, i) => ({ id: i + 1, text: `todo number ${i + 1}`, done: false })),
    nextId: count + 1,
    limit: Number(limit),
  };
}

/** Changes the state in place (it is a fresh copy): in the engine's interpreter, a spread of a long list costs more than the JSON. */
export function addTodo({ todo }: { todo: string }, state: TodoState) {
  if (typeof todo !== 'string' || todo.trim() === '') throw new Error('a todo needs some text');
  const added = { id: state.nextId++, text: todo, done: false };
  state.todos.push(added);
  if (state.limit > 0 && state.todos.length > state.limit) state.todos.shift();
  return reply(state, { name: 'todo-added', detail: { id: added.id } });
}
