import { expect } from 'chai';
import { html, LitElement } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import { liveState, liveStateConfig, LiveState, type LiveStateController } from '../src/index.js';
import { serverUrl, uniqueTopic, until } from './support.js';

// The original testbed's todo page, written as its elements are (plain decorated fields, as
// Lit 2 users write them): the list provides its LiveState on `window`, the form is its sibling.

@customElement('testbed-todo-list')
@liveState({ properties: ['todos'], events: { send: ['add_todo'] }, provide: { scope: window, name: 'todoLiveState' } })
class TestbedTodoList extends LitElement {
  @property() todos: string[] | undefined;
  @property() @liveStateConfig('url') url = 'foo';
  @property() @liveStateConfig('topic') topic = '';
  declare liveStateController: LiveStateController;
  override render() {
    return html`<ul>${this.todos?.map((todo) => html`<li>${todo}</li>`)}</ul>`;
  }
}

@customElement('testbed-todo-form')
@liveState({ events: { send: ['addTodo'], receive: ['livestate-change'] }, context: 'todoLiveState' })
class TestbedTodoForm extends LitElement {
  @query("input[name='todo']") todoInput!: HTMLInputElement;
  @state() sending = false;
  declare liveStateController: LiveStateController;

  constructor() {
    super();
    this.addEventListener('livestate-change', () => (this.sending = false));
  }

  override render() {
    return html`<input name="todo" /><button @click=${this.addTodo} ?disabled=${this.sending}>Add Todo</button>`;
  }

  addTodo(): void {
    this.sending = true;
    this.dispatchEvent(new CustomEvent('addTodo', { detail: { todo: this.todoInput.value } }));
    this.todoInput.value = '';
  }
}

@customElement('scoped-provider')
@liveState({ properties: ['todos'], provide: { scope: window, name: 'scopedTodos' } })
class ScopedProvider extends LitElement {
  @property() @liveStateConfig('url') url = '';
  @property() @liveStateConfig('topic') topic = '';
  declare liveStateController: LiveStateController;
}

@customElement('scoped-consumer')
@liveState({ properties: ['todos'], context: 'scopedTodos' })
class ScopedConsumer extends LitElement {
  todos: unknown[] | undefined;
  declare liveStateController: LiveStateController;
}

const scope = window as unknown as Record<string, unknown>;

describe('provide: {scope, name} and context: name, as in the original', () => {
  let url: string;
  const added: Element[] = [];
  const mount = (markup: string): HTMLElement => {
    const container = document.createElement('div');
    container.innerHTML = markup;
    added.push(document.body.appendChild(container));
    return container;
  };

  before(async () => {
    url = await serverUrl();
  });
  afterEach(() => added.splice(0).forEach((el) => el.remove()));

  it("the testbed's todo page: a form before its sibling provider sends the add; its button is disabled until the item appears", async () => {
    const page = mount(`<testbed-todo-form></testbed-todo-form>
      <testbed-todo-list url="${url}" topic="${uniqueTopic('testbed')}"></testbed-todo-list>`);
    const form = page.querySelector('testbed-todo-form') as TestbedTodoForm;
    const list = page.querySelector('testbed-todo-list') as TestbedTodoList;
    await until(() => list.todos !== undefined && form.liveStateController.connected);
    expect(form.liveStateController.liveState).to.equal(scope.todoLiveState);
    const button = () => form.shadowRoot!.querySelector('button')!;
    form.todoInput.value = 'Do a thing';
    button().click();
    await form.updateComplete;
    expect(button().disabled, 'disabled while the server adds (500 ms)').to.equal(true);
    await until(() => list.shadowRoot!.querySelector('li')?.textContent === 'Do a thing');
    await form.updateComplete;
    expect(button().disabled).to.equal(false);
    expect(list.todos).to.deep.equal(['Do a thing']);
  });

  it('a consumer rendered before the provider finds it when it connects later, and loses it when it goes', async () => {
    const consumer = mount('<scoped-consumer></scoped-consumer>').firstElementChild as ScopedConsumer;
    expect(consumer.liveStateController.liveState).to.equal(undefined);
    const topic = uniqueTopic('todo');
    const provider = mount(`<scoped-provider url="${url}" topic="${topic}"></scoped-provider>`).firstElementChild as ScopedProvider;
    expect(scope.scopedTodos).to.be.instanceOf(LiveState);
    expect(consumer.liveStateController.liveState).to.equal(scope.scopedTodos);
    await until(() => consumer.todos !== undefined);
    provider.remove();
    expect('scopedTodos' in window, 'deleted from the scope with its provider').to.equal(false);
    expect(consumer.liveStateController.liveState).to.equal(undefined);
    expect(provider.liveStateController.liveState).to.equal(undefined);
  });

  it('two providers of one name share one LiveState; it goes with the last of them', async () => {
    const topic = uniqueTopic('todo');
    const page = mount(`<scoped-provider url="${url}" topic="${topic}"></scoped-provider><scoped-provider url="${url}" topic="${topic}"></scoped-provider>`);
    const [first, second] = [...page.children] as ScopedProvider[];
    const shared = scope.scopedTodos as LiveState;
    expect(first!.liveStateController.liveState).to.equal(shared).and.equal(second!.liveStateController.liveState);
    first!.remove();
    expect(scope.scopedTodos).to.equal(shared);
    expect(shared.channel, 'still connected for the second').not.to.equal(undefined);
    second!.remove();
    expect('scopedTodos' in window).to.equal(false);
    expect(shared.channel).to.equal(undefined);
  });

  it('a LiveState already at scope[name] is used, and left there', async () => {
    const existing = new LiveState({ url, topic: uniqueTopic('todo') });
    scope.scopedTodos = existing;
    try {
      const page = mount(`<scoped-consumer></scoped-consumer><scoped-provider url="${url}" topic="other:topic"></scoped-provider>`);
      const [consumer, provider] = [...page.children] as [ScopedConsumer, ScopedProvider];
      expect(provider.liveStateController.liveState).to.equal(existing);
      expect(consumer.liveStateController.liveState).to.equal(existing);
      await until(() => consumer.todos !== undefined && provider.liveStateController.connected);
      provider.remove();
      expect(scope.scopedTodos, 'not made by the provider, so not deleted').to.equal(existing);
    } finally {
      existing.disconnect();
      delete scope.scopedTodos;
    }
  });
});
