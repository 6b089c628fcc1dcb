/** Where the elements connect when the page gives no `url`: the server that served the page. */
export const defaultUrl = (): string => `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/socket`;

export const DEFAULT_TOPIC = 'todo:all';

export interface Todo {
  id: number;
  text: string;
  done: boolean;
}
