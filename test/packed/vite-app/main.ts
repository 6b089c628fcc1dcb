// The elements README's decorator example, built by Vite with the tsconfig the README documents.
import { LitElement, html } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { liveState, liveStateConfig, liveStateProperty, type LiveStateController } from '@livestate/elements';

@customElement('todo-list')
@liveState({ topic: 'todo:vite', events: { send: ['addTodo'], receive: ['todo-added'] } })
export class TodoList extends LitElement {
  @property() @liveStateConfig('url') accessor url = 'ws://localhost:4000/socket';
  @liveStateProperty() accessor todos: string[] = [];
  declare liveStateController: LiveStateController;

  override render() {
    const { connected } = this.liveStateController;
    return html`<p>${connected ? 'online' : 'offline'}</p>
      <ul>${this.todos.map((todo) => html`<li>${todo}</li>`)}</ul>`;
  }
}

const list = document.createElement('todo-list');
list.setAttribute('url', `ws://${location.host}/socket`);
document.body.append(list);
