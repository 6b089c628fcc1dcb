// The elements' API as an application uses it, type-checked against the installed package.
import { LitElement, html } from 'lit';
import {
  LiveState,
  LiveStateController,
  LiveStateMixin,
  connectElement,
} from '@livestate/elements';
import { Socket } from '@livestate/elements/cdn';

const liveState = new LiveState({ url: 'ws://localhost:4000/socket', topic: 'todo:all', params: {} });
liveState.addEventListener('livestate-change', () => {});
liveState.connect();
liveState.pushEvent('addTodo', { todo: 'Buy milk' });
liveState.disconnect();

export class TodoCount extends LiveStateMixin(LitElement, {
  properties: ['todos'],
  config: { url: 'url', topic: 'topic' },
}) {
  static override properties = { url: {}, topic: {} };
}

export class TodoStatus extends LitElement {
  live = new LiveStateController(this, { url: 'ws://localhost:4000/socket', topic: 'todo:all' });
  override render() {
    return html`${this.live.connected ? 'online' : 'offline'}`;
  }
}

const undo = connectElement(document.createElement('div'), {
  url: 'ws://localhost:4000/socket',
  topic: 'todo:all',
  properties: ['todos'],
});
undo();
export const socketClass: typeof Socket = Socket;
