import { html, css, LitElement } from 'lit';
import { customElement, property, query } from 'lit/decorators.js';
import { liveState, liveStateConfig, type LiveStateController } from '@livestate/elements';
import { DEFAULT_TOPIC, defaultUrl } from './connection.js';
import { panel } from './styles.js';

/** A text field and an "Add Todo" button that sends `addTodo` with `{todo}`. */
@customElement('todo-form')
@liveState({ events: { send: ['addTodo'] } })
export class TodoForm extends LitElement {
  static override styles = [
    panel,
    css`
      form { display: flex; gap: 0.5rem; }
      input { flex: 1; font: inherit; padding: 0.35rem 0.5rem; border: 1px solid #9aa5b1; border-radius: 6px; }
    `,
  ];

  @property() @liveStateConfig('url') accessor url = defaultUrl();
  @property() @liveStateConfig('topic') accessor topic = DEFAULT_TOPIC;
  @query('input') accessor input!: HTMLInputElement;
  declare liveStateController: LiveStateController;

  private submit(event: SubmitEvent): void {
    event.preventDefault();
    this.dispatchEvent(new CustomEvent('addTodo', { detail: { todo: this.input.value } }));
    this.input.value = '';
  }

  override render() {
    const { error } = this.liveStateController;
    return html`
      <form @submit=${this.submit}>
        <input name="todo" placeholder="What needs doing?" autocomplete="off" />
        <button type="submit">Add Todo</button>
      </form>
      ${error ? html`<p class="error" role="alert">${error.message}</p>` : ''}
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'todo-form': TodoForm;
  }
}
