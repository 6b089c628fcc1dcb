// The benchmarks' todo JSON types, shared by todo.ts and todo-classic.ts (not a module of its own: no build line).
import { JSON } from 'json-as';

@json
export class Todo {
  id: i32 = 0;
  text: string = '';
  done: bool = false;
}

/** The join params: `prefill` todos to start with, and the `limit` past which the oldest is dropped. */
@json
export class Params {
  prefill: i32 = 0;
  limit: i32 = 0;
}

@json
export class AddTodo {
  todo: string = '';
}

@json
export class Added {
  id: i32 = 0;
}
