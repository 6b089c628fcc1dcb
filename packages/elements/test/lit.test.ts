import { expect } from 'chai';
import { html, LitElement } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import {
  liveState,
  liveStateConfig,
  liveStateProperty,
  LiveStateController,
  LiveStateMixin,
  type LiveStateChange,
} from '../src/index.js';
import { nextEvent, serverUrl, uniqueTopic, until } from './support.js';

// Elements written with plain decorated fields (experimentalDecorators, useDefineForClassFields:
// false), as Lit 2 users write them: this file runs against Lit 3 and Lit 2.

/** The states of the test server's topics (see live-server-plugin.mjs). */
type TestState = { todos: Array<{ text: string; done: boolean }>; owner?: string; params: Record<string, string>; count: number };

@customElement('decorated-todos')
@liveState({ properties: ['todos'], events: { send: ['addTodo'], receive: ['todo-added'] } })
class DecoratedTodos extends LitElement {
  @property() @liveStateConfig('url') url = '';
  @property() @liveStateConfig('topic') topic = '';
  @property({ attribute: 'owner' }) @liveStateConfig('params.owner') owner: string | undefined;
  @liveStateProperty() todos: Array<{ text: string }> = [];
  @liveStateProperty('owner') ownerFromState: string | undefined;
  @liveStateProperty('todos.0.text') firstText: string | undefined;

  declare liveStateController: LiveStateController;

  override render() {
    return html`<span>${this.liveStateController.connected ? 'online' : 'offline'}</span>
      <ul>${this.todos.map((todo) => html`<li>${todo.text}</li>`)}</ul>`;
  }
}

/** As in the original's testbed: the join params come from attributes, the state echoes them. */
@customElement('join-params')
@liveState({})
class JoinParams extends LitElement {
  @property() @liveStateConfig('url') url = '';
  @property() @liveStateConfig('topic') topic = '';
  @property({ attribute: 'api-key' }) @liveStateConfig('params.api_key') apiKey = '';
  @liveStateProperty('params.api_key') result: string | undefined;
}

/** `@liveStateProperty()` with `@property()`, in both orders: the attribute still sets the property. */
@customElement('ordered-properties')
@liveState({})
class OrderedProperties extends LitElement {
  @property() @liveStateConfig('url') url = '';
  @property() @liveStateConfig('topic') topic = '';
  @property({ attribute: 'label-a' }) @liveStateProperty('label') labelA = '';
  @liveStateProperty('label') @property({ attribute: 'label-b' }) labelB = '';
  declare liveStateController: LiveStateController;
}

class MixedTodos extends LiveStateMixin(LitElement, { properties: ['todos'] }) {
  declare todos: Array<{ text: string }> | undefined;
  override render() {
    return html`<ul>${(this.todos ?? []).map((todo) => html`<li>${todo.text}</li>`)}</ul>`;
  }
}
customElements.define('mixed-todos', MixedTodos);

@customElement('todo-provider')
@liveState({ provide: 'todos', properties: ['todos'] })
class TodoProvider extends LitElement {
  @property() @liveStateConfig('url') url = '';
  @property() @liveStateConfig('topic') topic = '';
  @liveStateProperty() todos: unknown[] = [];
  declare liveStateController: LiveStateController;
  override render() {
    return html`<slot></slot>`;
  }
}

@customElement('todo-consumer')
@liveState({ context: 'todos', events: { send: ['addTodo'] } })
class TodoConsumer extends LitElement {
  @liveStateProperty() todos: unknown[] = [];
  declare liveStateController: LiveStateController;
}

const items = (el: Element) => [...el.shadowRoot!.querySelectorAll('li')].map((li) => li.textContent);

describe('Lit integration', () => {
  let url: string;
  const added: Element[] = [];
  const mount = <T extends Element>(markup: string): T => {
    const template = document.createElement('template');
    template.innerHTML = markup;
    const el = template.content.firstElementChild as T;
    added.push(document.body.appendChild(el));
    return el;
  };

  before(async () => {
    url = await serverUrl();
  });
  afterEach(() => added.splice(0).forEach((el) => el.remove()));

  it('runs against the Lit major under test (3, or 2 with web-test-runner.lit2.config.mjs)', () => {
    const { expectedLitMajor = 3, litElementVersions } = window as unknown as { expectedLitMajor?: number; litElementVersions: string[] };
    // lit-element 3.x is Lit 2's, 4.x is Lit 3's.
    expect(litElementVersions.map((version) => Number(version.split('.')[0]) - 1)).to.deep.equal([expectedLitMajor]);
  });

  it('@liveState, @liveStateConfig and @liveStateProperty: config from attributes, reactive properties, paths, events', async () => {
    const topic = uniqueTopic('todo');
    const el = mount<DecoratedTodos>(`<decorated-todos url="${url}" topic="${topic}" owner="ann"></decorated-todos>`);
    await until(() => el.liveStateController.state !== undefined);
    await el.updateComplete;
    expect(el.shadowRoot!.querySelector('span')!.textContent).to.equal('online');
    expect(el.ownerFromState).to.equal('ann', 'params.owner went to the join');
    const addedEvent = nextEvent(el, 'todo-added');
    el.dispatchEvent(new CustomEvent('addTodo', { detail: { todo: 'decorated' } }));
    expect((await addedEvent).detail).to.deep.equal({ text: 'decorated', done: false });
    await until(() => items(el).length === 1);
    expect(items(el)).to.deep.equal(['decorated']);
    expect(el.firstText).to.equal('decorated');

    el.dispatchEvent(new CustomEvent('addTodo', { detail: { todo: ' ' } }));
    await until(() => el.liveStateController.error !== undefined);
    expect(el.liveStateController.error).to.include({ type: 'server error', message: 'a todo needs some text' });
    el.dispatchEvent(new CustomEvent('addTodo', { detail: { todo: 'fine again' } }));
    await until(() => el.liveStateController.error === undefined && items(el).length === 2);
  });

  it('two elements on one topic with different params each get their own state', async () => {
    const topic = uniqueTopic('params');
    const foo = mount<JoinParams>(`<join-params url="${url}" topic="${topic}" api-key="foo"></join-params>`);
    const bar = mount<JoinParams>(`<join-params url="${url}" topic="${topic}" api-key="bar"></join-params>`);
    await until(() => foo.result !== undefined && bar.result !== undefined);
    expect([foo.result, bar.result]).to.deep.equal(['foo', 'bar']);
  });

  it('@liveStateProperty() with @property(), in either order, keeps the attribute binding', async () => {
    const el = mount<OrderedProperties>(`<ordered-properties label-a="a" label-b="b"></ordered-properties>`);
    expect([el.labelA, el.labelB]).to.deep.equal(['a', 'b']);
    el.url = url;
    el.topic = uniqueTopic('echo');
    await until(() => el.labelA === 'echo' && el.labelB === 'echo');
    el.setAttribute('label-a', 'from attribute a');
    el.setAttribute('label-b', 'from attribute b');
    expect([el.labelA, el.labelB]).to.deep.equal(['from attribute a', 'from attribute b']);
  });

  it('waits for its url and topic: reports a config error, then connects when the attributes come', async () => {
    const el = document.createElement('decorated-todos') as DecoratedTodos;
    const errors: unknown[] = [];
    el.addEventListener('livestate-error', (event) => errors.push(event.detail));
    added.push(document.body.appendChild(el));
    await el.updateComplete;
    expect(errors).to.deep.equal([{ type: 'config error', message: 'LiveState needs a url and a topic (got url "", topic "")' }]);
    expect(el.liveStateController.error).to.deep.equal(errors[0]);
    el.setAttribute('url', url);
    await el.updateComplete;
    expect(errors, 'reported once while it waits').to.have.length(1);
    el.setAttribute('topic', uniqueTopic('todo'));
    await until(() => el.liveStateController.connected);
    expect(el.liveStateController.error).to.equal(undefined);
  });

  it('cleans up when the element leaves the document and reconnects when it comes back', async () => {
    const el = mount<DecoratedTodos>(`<decorated-todos url="${url}" topic="${uniqueTopic('todo')}"></decorated-todos>`);
    await until(() => el.liveStateController.connected);
    const first = el.liveStateController.liveState!;
    el.remove();
    expect(first.channel).to.equal(undefined);
    expect(el.liveStateController.liveState).to.equal(undefined);
    document.body.appendChild(el);
    await until(() => el.liveStateController.connected);
    expect(el.liveStateController.liveState).not.to.equal(first);
  });

  it('LiveStateMixin connects an element written without decorators', async () => {
    const el = document.createElement('mixed-todos') as MixedTodos;
    (el as any).liveStateController.options.url = url;
    (el as any).liveStateController.options.topic = uniqueTopic('todo');
    added.push(document.body.appendChild(el));
    await until(() => el.liveStateController.connected);
    el.liveStateController.pushEvent('addTodo', { todo: 'mixed in' });
    await until(() => items(el).length === 1);
    expect(items(el)).to.deep.equal(['mixed in']);
  });

  it('shares the provider connection with descendants through a context; a consumer never tears it down', async () => {
    const topic = uniqueTopic('todo');
    const provider = mount<TodoProvider>(`<todo-provider url="${url}" topic="${topic}"><todo-consumer></todo-consumer></todo-provider>`);
    const consumer = provider.querySelector('todo-consumer') as TodoConsumer;
    await until(() => consumer.liveStateController.liveState !== undefined);
    const shared = provider.liveStateController.liveState!;
    expect(consumer.liveStateController.liveState).to.equal(shared);
    const changed = nextEvent<LiveStateChange<TestState>>(shared, 'livestate-change', ({ state }) => state.todos.length === 1);
    consumer.dispatchEvent(new CustomEvent('addTodo', { detail: { todo: 'through the context' } }));
    await changed;
    await until(() => consumer.todos.length === 1 && provider.todos.length === 1);
    consumer.remove();
    expect(shared.channel, 'the provider is still connected').not.to.equal(undefined);
    expect(provider.liveStateController.connected).to.equal(true);
  });
});
