// The todo list's event handler in TypeScript: the twin of ../handler/todo.ts, compiled to a
// WebAssembly Component by `pnpm build` (livestate-guest-js handler-js/todo.ts -o
// build/todo.component.wasm) and run sandboxed by the server: `pnpm serve:js`.
import { reply } from '@livestate/guest-js';

interface Todo {
  id: number;
  text: string;
  done: boolean;
}

interface TodoState {
  todos: Todo[];
  nextId: number;
}

export function init(): TodoState {
  return { todos: [], nextId: 1 };
}

export function addTodo({ todo }: { todo: string }, state: TodoState) {
  const text = String(todo ?? '').trim();
  if (text.length === 0) throw new Error('A todo needs some text.');
  const added = { id: state.nextId, text, done: false };
  return reply({ ...state, todos: [...state.todos, added], nextId: state.nextId + 1 }, { name: 'todo-added', detail: { id: added.id } });
}

export function toggleTodo({ id }: { id: number }, state: TodoState): TodoState {
  return { ...state, todos: state.todos.map((todo) => (todo.id === id ? { ...todo, done: !todo.done } : todo)) };
}

export function removeTodo({ id }: { id: number }, state: TodoState): TodoState {
  return { ...state, todos: state.todos.filter((todo) => todo.id !== id) };
}

export function clearCompleted(_payload: unknown, state: TodoState): TodoState {
  return { ...state, todos: state.todos.filter((todo) => !todo.done) };
}
