import { expect } from 'chai';
import { LiveState, type LiveStateChange, type LiveStateError } from '../src/index.js';
import { joinCount, nextEvent, server, serverUrl, uniqueTopic, until } from './support.js';

/** The states of the test server's topics (see live-server-plugin.mjs). */
type TestState = { todos: Array<{ text: string; done: boolean }>; owner?: string; params: Record<string, string>; count: number };

describe('LiveState', () => {
  let url: string;
  const opened: LiveState[] = [];
  const open = (topic: string, params: object = {}) => {
    const liveState = new LiveState<TestState>({ url, topic, params });
    opened.push(liveState);
    return liveState;
  };

  before(async () => {
    url = await serverUrl();
  });
  afterEach(() => opened.splice(0).forEach((liveState) => liveState.disconnect()));

  it('joins once for two connect() calls, and receives the state', async () => {
    const topic = uniqueTopic('todo');
    const liveState = open(topic, { owner: 'ann' });
    const changed = nextEvent<LiveStateChange<TestState>>(liveState, 'livestate-change');
    liveState.connect();
    liveState.connect();
    const { detail } = await changed;
    expect(detail).to.deep.equal({ state: { todos: [], owner: 'ann' }, version: 0 });
    expect(liveState.state).to.deep.equal(detail.state);
    expect(await joinCount(topic)).to.equal(1);
  });

  it('shares one socket per URL and one channel per topic', async () => {
    const topic = uniqueTopic('todo');
    const [a, b, c] = [open(topic), open(topic), open(uniqueTopic('todo'))];
    a.connect();
    await nextEvent(a, 'livestate-change');
    const bState = nextEvent<LiveStateChange<TestState>>(b, 'livestate-change');
    b.connect();
    c.connect();
    expect((await bState).detail.state).to.deep.equal({ todos: [] });
    expect(a.socket).to.equal(b.socket).and.equal(c.socket);
    expect(a.channel).to.equal(b.channel);
    expect(await joinCount(topic)).to.equal(1);
    b.disconnect();
    const patched = nextEvent<LiveStateChange<TestState>>(a, 'livestate-change', ({ version }) => version === 1);
    a.pushEvent('addTodo', { todo: 'still joined' });
    expect((await patched).detail.state.todos).to.have.length(1);
  });

  it('shares a channel only when the params are equal; other params get a socket of their own', async () => {
    const topic = uniqueTopic('params');
    const [foo, sameAsFoo, bar] = [open(topic, { api_key: 'foo', n: { a: 1, b: 2 } }), open(topic, { n: { b: 2, a: 1 }, api_key: 'foo' }), open(topic, { api_key: 'bar' })];
    const states = [foo, sameAsFoo, bar].map((liveState) => nextEvent<LiveStateChange<TestState>>(liveState, 'livestate-change'));
    for (const liveState of [foo, sameAsFoo, bar]) liveState.connect();
    const keys = (await Promise.all(states)).map((event) => event.detail.state.params.api_key);
    expect(keys).to.deep.equal(['foo', 'foo', 'bar']);
    expect(foo.channel).to.equal(sameAsFoo.channel);
    expect(bar.socket).not.to.equal(foo.socket);
    expect(await joinCount(topic)).to.equal(2);
    foo.disconnect();
    sameAsFoo.disconnect();
    const other = open(uniqueTopic('params'));
    other.connect();
    expect(other.socket, 'a socket no longer used is closed, others are reused').to.equal(bar.socket);
  });

  it('applies patches, keeping the identity of everything the patch did not touch', async () => {
    const liveState = open(uniqueTopic('todo'));
    liveState.connect();
    await nextEvent(liveState, 'livestate-change');
    liveState.pushEvent('addTodo', { todo: 'first' });
    const first = (await nextEvent<LiveStateChange<TestState>>(liveState, 'livestate-change')).detail.state;
    const patch = nextEvent(liveState, 'livestate-patch');
    liveState.pushEvent('addTodo', { todo: 'second' });
    const { detail } = await nextEvent<LiveStateChange<TestState>>(liveState, 'livestate-change');
    expect((await patch).detail).to.deep.equal({
      patch: [{ op: 'add', path: '/todos/1', value: { text: 'second', done: false } }],
      version: 2,
    });
    expect(detail.version).to.equal(2);
    expect(detail.state).not.to.equal(first);
    expect(detail.state.todos).not.to.equal(first.todos);
    expect(detail.state.todos[0]).to.equal(first.todos[0]);
  });

  it('asks for the whole state with lvs_refresh when a patch skips a version', async () => {
    const liveState = open(uniqueTopic('todo'));
    liveState.connect();
    await nextEvent(liveState, 'livestate-change');
    liveState.stateVersion = 7;
    const events: string[] = [];
    liveState.addEventListener('livestate-patch', () => events.push('patch'));
    liveState.addEventListener('livestate-change', () => events.push('change'));
    const refreshed = nextEvent<LiveStateChange<TestState>>(liveState, 'livestate-change');
    liveState.pushEvent('addTodo', { todo: 'after a gap' });
    const { detail } = await refreshed;
    expect(events).to.deep.equal(['patch', 'change']);
    expect(detail).to.deep.equal({ state: { todos: [{ text: 'after a gap', done: false }] }, version: 1 });
  });

  it('accepts a patch whose version wrapped to 0', async () => {
    const liveState = open(uniqueTopic('wrap'));
    liveState.connect();
    await nextEvent(liveState, 'livestate-change');
    const versions: number[] = [];
    liveState.addEventListener('livestate-change', (event) => versions.push((event as CustomEvent).detail.version));
    const wrapped = nextEvent<LiveStateChange<TestState>>(liveState, 'livestate-change', ({ state }) => state.todos.length === 3);
    for (const todo of ['a', 'b', 'c']) liveState.pushEvent('addTodo', { todo });
    expect((await wrapped).detail.version).to.equal(0);
    expect(versions).to.deep.equal([1, 2, 0]);
  });

  it('sends events with their name and detail, and receives server events until the last listener goes', async () => {
    const liveState = open(uniqueTopic('echo'));
    liveState.connect();
    await nextEvent(liveState, 'livestate-change');
    const received = nextEvent(liveState, 'received');
    liveState.dispatchEvent(new CustomEvent('launch-form-submit', { detail: { answer: 42 } }));
    expect((await received).detail).to.deep.equal({ name: 'launch-form-submit', payload: { answer: 42 } });
    const pushed = nextEvent(liveState, 'received');
    liveState.pushEvent('add_todo');
    expect((await pushed).detail).to.deep.equal({ name: 'add_todo', payload: {} });

    let calls = 0;
    const listener = () => calls++;
    liveState.addEventListener('received', listener);
    liveState.removeEventListener('received', listener);
    expect((liveState.channel as any).bindings.filter((b: { event: string }) => b.event === 'received')).to.have.length(0);
    liveState.pushEvent('ignored');
    await nextEvent(liveState, 'livestate-change', ({ state }) => state.count === 3);
    expect(calls).to.equal(0);
  });

  it('reports a missing url or topic as livestate-error (config error) instead of throwing', async () => {
    const liveState = open('');
    const error = nextEvent<LiveStateError>(liveState, 'livestate-error');
    liveState.connect();
    expect((await error).detail).to.deep.equal({ type: 'config error', message: `LiveState needs a url and a topic (got url "${url}", topic "")` });
    expect(liveState.channel).to.equal(undefined);
  });

  it('types its events and state: livestate-* from LiveStateEventMap, server events by the detail named', async () => {
    const liveState = new LiveState<{ todos: Array<{ text: string }> }>({ url, topic: uniqueTopic('todo') });
    opened.push(liveState);
    const texts: string[][] = [];
    liveState.addEventListener('livestate-change', (event) => texts.push(event.detail.state.todos.map((todo) => todo.text)));
    // @ts-expect-error: the state has no `count`
    liveState.addEventListener('livestate-change', (event) => event.detail.state.count);
    liveState.addEventListener('livestate-error', (event) => event.detail.message.toUpperCase());
    const added = new Promise<string>((resolve) => liveState.addEventListener<{ text: string }>('todo-added', (event) => resolve(event.detail.text)));
    liveState.connect();
    liveState.pushEvent('addTodo', { todo: 'typed' });
    expect(await added).to.equal('typed');
    await until(() => texts.length === 2);
    expect(texts).to.deep.equal([[], ['typed']]);
  });

  it('reports a join refusal as livestate-error with the reason as its message', async () => {
    const liveState = open(uniqueTopic('private'), { token: 'wrong' });
    const error = nextEvent<LiveStateError>(liveState, 'livestate-error');
    liveState.connect();
    expect((await error).detail).to.deep.equal({ type: 'channel join error', message: 'bad token' });
  });

  it("reports the server's error push as livestate-error", async () => {
    const liveState = open(uniqueTopic('todo'));
    liveState.connect();
    await nextEvent(liveState, 'livestate-change');
    const error = nextEvent<LiveStateError>(liveState, 'livestate-error');
    liveState.pushEvent('addTodo', { todo: '  ' });
    expect((await error).detail).to.deep.equal({ type: 'server error', message: 'a todo needs some text', event: 'addTodo' });
  });

  it('sends livestate-disconnect when the server goes away and livestate-connect when it is back', async () => {
    const liveState = open(uniqueTopic('todo'));
    const connected = nextEvent(liveState, 'livestate-connect');
    liveState.connect();
    await connected;
    expect(liveState.connected).to.equal(true);
    const disconnected = nextEvent(liveState, 'livestate-disconnect');
    await server('stop');
    await disconnected;
    expect(liveState.connected).to.equal(false);
    const reconnected = nextEvent(liveState, 'livestate-connect');
    await server('start');
    await reconnected;
    expect(liveState.connected).to.equal(true);
    expect(liveState.state).to.deep.equal({ todos: [] });
  });
});
