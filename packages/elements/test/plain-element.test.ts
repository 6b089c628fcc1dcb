import { expect } from 'chai';
import { liveState, liveStateConfig, liveStateProperty, type LiveStateController } from '../src/index.js';
import { serverUrl, uniqueTopic, until } from './support.js';

/** `@liveState` on a custom element that is not a Lit element, as the original allowed. */
@liveState({ properties: ['todos'], events: { send: ['addTodo'] } })
class PlainTodos extends HTMLElement {
  todos: Array<{ text: string }> | undefined;
  @liveStateProperty('todos.0.text') firstText: string | undefined;
  connects = 0;
  declare liveStateController: LiveStateController;

  @liveStateConfig('url') get url(): string | null {
    return this.getAttribute('url');
  }

  @liveStateConfig('topic') get topic(): string | null {
    return this.getAttribute('topic');
  }

  connectedCallback(): void {
    this.connects++;
  }
}
customElements.define('plain-todos', PlainTodos);

describe('@liveState on a plain HTMLElement subclass', () => {
  let url: string;
  before(async () => {
    url = await serverUrl();
  });

  it('connects, sets properties, sends events, keeps its own callbacks, and disconnects when removed', async () => {
    const el = document.createElement('plain-todos') as PlainTodos;
    el.setAttribute('url', url);
    el.setAttribute('topic', uniqueTopic('todo'));
    document.body.append(el);
    expect(el.connects).to.equal(1);
    await until(() => el.liveStateController.connected && el.todos !== undefined);
    el.dispatchEvent(new CustomEvent('addTodo', { detail: { todo: 'plain' } }));
    await until(() => el.todos?.length === 1);
    expect(el.firstText).to.equal('plain');
    const { liveState } = el.liveStateController;
    el.remove();
    expect(liveState!.channel).to.equal(undefined);
    document.body.append(el);
    expect(el.connects).to.equal(2);
    await until(() => el.liveStateController.connected);
    el.remove();
  });

  it('reports a missing url or topic with livestate-error on the element', () => {
    const el = document.createElement('plain-todos') as PlainTodos;
    let reported: CustomEvent | undefined;
    document.addEventListener('livestate-error', (event) => (reported = event as CustomEvent), { once: true });
    document.body.append(el);
    expect(reported?.detail).to.deep.equal({ type: 'config error', message: 'LiveState needs a url and a topic (got url undefined, topic undefined)' });
    expect(reported?.target).to.equal(el);
    expect(el.liveStateController.error).to.equal(reported?.detail);
    el.remove();
  });
});
