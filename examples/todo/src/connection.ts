import { scriptSocketUrl } from '@livestate/elements';

/**
 * Where the elements connect when the page gives no `url`: the server their script came
 * from when they are embedded with the script-tag bundle (`/todo-elements.js`), else the
 * server of the page (the app, whose modules are bundled).
 */
export const defaultUrl = (): string => scriptSocketUrl ?? `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/socket`;

export const DEFAULT_TOPIC = 'todo:all';

export interface Todo {
  id: number;
  text: string;
  done: boolean;
}
