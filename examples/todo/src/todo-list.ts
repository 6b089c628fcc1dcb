import { html, css, LitElement } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import { liveState, liveStateConfig, liveStateProperty, type LiveStateController } from '@livestate/elements';
import { DEFAULT_TOPIC, defaultUrl, type Todo } from './connection.js';
import { panel } from './styles.js';

/** The list: each todo with a checkbox that toggles it and a button that removes it. */
@customElement('todo-list')
@liveState({ events: { send: ['toggleTodo', 'removeTodo', 'clearCompleted'] } })
export class TodoList extends LitElement {
  static override styles = [
    panel,
    css`
      header { display: flex; justify-content: space-between; align-items: center; }
      h2 { margin: 0; font-size: 1.25rem; }
      .status { font-size: 0.85rem; }
      .status[data-status='online'] { color: #057a55; }
      .status[data-status='offline'] { color: #9b1c1c; }
      ul { list-style: none; padding: 0; margin: 0.75rem 0; }
      li { display: flex; align-items: center; gap: 0.5rem; padding: 0.35rem 0; border-bottom: 1px solid #e4e7eb; }
      li span { flex: 1; }
      li.done span { text-decoration: line-through; color: #7b8794; }
      .empty { color: #7b8794; }
    `,
  ];

  @property() @liveStateConfig('url') accessor url = defaultUrl();
  @property() @liveStateConfig('topic') accessor topic = DEFAULT_TOPIC;
  @liveStateProperty() accessor todos: Todo[] | undefined;
  declare liveStateController: LiveStateController;

  private send(name: string, detail: object = {}): void {
    this.dispatchEvent(new CustomEvent(name, { detail }));
  }

  override render() {
    const { connected, error } = this.liveStateController;
    const todos = this.todos ?? [];
    return html`
      <header>
        <h2>Todos</h2>
        <span class="status" data-status=${connected ? 'online' : 'offline'}>${connected ? '● online' : '○ offline'}</span>
      </header>
      ${error ? html`<p class="error" role="alert">${error.message}</p>` : ''}
      ${todos.length === 0 ? html`<p class="empty">Nothing to do.</p>` : ''}
      <ul>
        ${repeat(
          todos,
          (todo) => todo.id,
          (todo) => html`<li class=${todo.done ? 'done' : ''}>
            <input type="checkbox" aria-label=${`Done: ${todo.text}`} .checked=${todo.done} @change=${() => this.send('toggleTodo', { id: todo.id })} />
            <span>${todo.text}</span>
            <button aria-label=${`Remove ${todo.text}`} @click=${() => this.send('removeTodo', { id: todo.id })}>✕</button>
          </li>`,
        )}
      </ul>
      ${todos.some((todo) => todo.done) ? html`<button @click=${() => this.send('clearCompleted')}>Clear completed</button>` : ''}
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'todo-list': TodoList;
  }
}
