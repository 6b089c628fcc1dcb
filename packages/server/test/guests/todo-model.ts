// The todo list's JSON types, shared by todo.ts and resident.ts (not a module of its own: no build line).
import { JSON } from 'json-as';

@json
export class Todo {
  id: i32 = 0;
  text: string = '';
  done: bool = false;
}

@json
export class TodoState {
  todos: Todo[] = [];
  nextId: i32 = 1;
  @omitnull()
  owner: string | null = null;
}

@json
export class JoinParams {
  @omitnull()
  owner: string | null = null;
}

@json
export class AddTodo {
  todo: string = '';
}

@json
export class TodoRef {
  id: i32 = 0;
}
