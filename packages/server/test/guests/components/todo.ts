// A handler in TypeScript, built into a WebAssembly Component (build/guests/todo.component.wasm)
// by `pnpm build:guests`: the todo events of ../todo.ts, and every way a handler can go wrong.
import { reply, type JsonValue } from '@livestate/guest-js';

interface Todo {
  id: number;
  text: string;
  done: boolean;
}

interface TodoState {
  todos: Todo[];
  nextId: number;
}

export function init(params: { owner?: string; refuse?: string }): TodoState {
  if (params.refuse) throw new Error(params.refuse);
  return { ...(params.owner ? { owner: params.owner } : {}), todos: [], nextId: 1 };
}

export function addTodo({ todo }: { todo: string }, state: TodoState) {
  if (typeof todo !== 'string' || todo.trim() === '') throw new Error('a todo needs some text');
  const added = { id: state.nextId, text: todo, done: false };
  return reply({ ...state, todos: [...state.todos, added], nextId: state.nextId + 1 }, { name: 'todo-added', detail: { id: added.id } });
}

export function toggleTodo({ id }: { id: number }, state: TodoState): TodoState {
  return { ...state, todos: state.todos.map((todo) => (todo.id === id ? { ...todo, done: !todo.done } : todo)) };
}

/** A failure the handler did not mean: a TypeError from reading a property of undefined. */
export function crash(_payload: unknown, state: TodoState): TodoState {
  return (state as any).missing.field;
}

/** Runs until the server stops it. */
export function spin(): TodoState {
  for (;;);
}

/** Allocates until the memory cap stops it. */
export function hog(_payload: unknown, state: TodoState): TodoState {
  const chunks: string[] = [];
  for (;;) chunks.push(`${chunks.length}`.padEnd(1 << 20, '.'));
  return state;
}

export function notObject(): TodoState {
  return [1, 2, 3] as unknown as TodoState;
}

export async function later(_payload: unknown, state: TodoState): Promise<TodoState> {
  return state;
}

/** What the sandbox leaves of the clock, randomness, I/O and logging (documented in @livestate/guest-js). */
const probes: Record<string, () => JsonValue> = {
  now: () => Date.now(),
  performanceNow: () => performance.now(),
  random: () => [Math.random(), Math.random()],
  getRandomValues: () => [...crypto.getRandomValues(new Uint8Array(4))],
  fetch: () => typeof fetch,
  console: () => {
    console.log('goes nowhere');
    return 'logged';
  },
};

export function probe({ name }: { name: string }, state: TodoState): TodoState {
  return { ...state, probed: probes[name]!() };
}

/** What a handler must not do: keep data in the module between calls. The server resets it for every other state. */
let lastSecret = '';

export function keepSecret({ secret }: { secret: string }, state: TodoState): TodoState {
  const previous = lastSecret;
  lastSecret = secret;
  return { ...state, previous } as TodoState;
}
