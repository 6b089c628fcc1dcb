import { expect } from 'chai';
import { LiveState, LiveStateEventError, type LiveStateChange } from '../src/index.js';
import { collect, joinCount, nextEvent, server, serverUrl, uniqueTopic } from './support.js';

type TodoState = { todos: Array<{ text: string; done: boolean }> };

describe('LiveState with a durable server: acknowledged events, resume', () => {
  let url: string;
  const opened: LiveState[] = [];
  const open = (topic: string) => {
    const liveState = new LiveState<TodoState>({ url, topic });
    opened.push(liveState);
    return liveState;
  };

  before(async () => {
    url = await serverUrl();
  });
  afterEach(() => opened.splice(0).forEach((liveState) => liveState.disconnect()));

  it('pushEvent resolves with the version the event committed, after its patch', async () => {
    const liveState = open(uniqueTopic('todo'));
    const ready = nextEvent(liveState, 'livestate-change');
    liveState.connect();
    await ready;
    expect(await liveState.pushEvent('addTodo', { todo: 'first' })).to.equal(1);
    expect(liveState.stateVersion).to.equal(1, 'the patch came before the answer');
    expect(liveState.state!.todos.map((todo) => todo.text)).to.deep.equal(['first']);
    expect(await liveState.pushEvent('addTodo', { todo: 'second' })).to.equal(2);
  });

  it('pushEvent rejects with the reason of an event the server refused; livestate-error still comes', async () => {
    const liveState = open(uniqueTopic('todo'));
    const ready = nextEvent(liveState, 'livestate-change');
    liveState.connect();
    await ready;
    const errors = collect(liveState, 'livestate-error');
    const failure = await liveState.pushEvent('addTodo', { todo: '  ' }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).to.be.instanceOf(LiveStateEventError);
    expect(failure).to.include({ event: 'addTodo', reason: 'a todo needs some text' });
    expect(errors).to.deep.equal([{ type: 'server error', message: 'a todo needs some text', event: 'addTodo' }]);
    expect(liveState.stateVersion).to.equal(0);
  });

  it('sends an event pushed while offline after the rejoin, which resumes with patches only', async () => {
    const topic = uniqueTopic('todo');
    const liveState = open(topic);
    const ready = nextEvent(liveState, 'livestate-change');
    liveState.connect();
    await ready;
    await liveState.pushEvent('addTodo', { todo: 'before' });

    const disconnected = nextEvent(liveState, 'livestate-disconnect');
    await server('stop');
    await disconnected;
    const changes = collect<LiveStateChange<TodoState>>(liveState, 'livestate-change');
    const patches = collect(liveState, 'livestate-patch');
    const offline = liveState.pushEvent('addTodo', { todo: 'while offline' });
    await server('start');

    expect(await offline).to.equal(2);
    expect(await joinCount(topic)).to.equal(2);
    expect(patches).to.have.length(1, 'only the patch of the offline event');
    expect(changes.map(({ version }) => version)).to.deep.equal([2], 'no whole state was sent');
    expect(liveState.state!.todos.map((todo) => todo.text)).to.deep.equal(['before', 'while offline']);
  });
});
