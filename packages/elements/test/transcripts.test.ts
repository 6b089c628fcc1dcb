import { expect } from 'chai';
import { LiveState, type LiveStateChange, type LiveStateError } from '../src/index.js';
import { collect, nextEvent, transcript } from './support.js';

/** Replays recorded server frames (fixtures/transcripts/) to a real LiveState through a scripted WebSocket server. */
describe('LiveState against recorded frames of other servers', () => {
  const opened: LiveState[] = [];
  const replay = async (name: string, topic: string, params: object = {}) => {
    const { url, outcome } = await transcript(name);
    const liveState = new LiveState({ url, topic, params });
    opened.push(liveState);
    return { liveState, outcome };
  };
  afterEach(() => opened.splice(0).forEach((liveState) => liveState.disconnect()));

  it('Elixir: join with params, state:change, a reply event, then patches (an empty one too)', async () => {
    const { liveState, outcome } = await replay('elixir-join-event-patch', 'todo:all', { api_key: 'foo' });
    const changes = collect<LiveStateChange>(liveState, 'livestate-change');
    const initial = nextEvent(liveState, 'livestate-change');
    liveState.connect();
    await initial;
    const added = nextEvent(liveState, 'todo-added');
    liveState.pushEvent('addTodo', { todo: 'Buy milk' });
    expect((await added).detail).to.deep.equal({ todo: 'Buy milk' });
    await nextEvent(liveState, 'livestate-change', ({ version }: LiveStateChange) => version === 1);
    liveState.pushEvent('clear');
    await nextEvent(liveState, 'livestate-change', ({ version }: LiveStateChange) => version === 2);
    liveState.pushEvent('noop');
    await nextEvent(liveState, 'livestate-change', ({ version }: LiveStateChange) => version === 3);
    expect(changes).to.deep.equal([
      { state: { todos: [], api_key: 'foo' }, version: 0 },
      { state: { todos: ['Buy milk'], api_key: 'foo' }, version: 1 },
      { state: { todos: [], api_key: 'foo' }, version: 2 },
      { state: { todos: [], api_key: 'foo' }, version: 3 },
    ]);
    expect(await outcome()).to.deep.equal({ done: true, errors: [] });
  });

  it('Elixir: versions that wrap around to 0 are applied', async () => {
    const { liveState, outcome } = await replay('elixir-version-rollover', 'counter:all');
    const changes = collect<LiveStateChange>(liveState, 'livestate-change');
    liveState.connect();
    await nextEvent(liveState, 'livestate-change');
    for (let count = 1; count <= 4; count++) {
      liveState.pushEvent('increment');
      await nextEvent(liveState, 'livestate-change', ({ state }: LiveStateChange) => state.count === count);
    }
    expect(changes.map(({ state, version }) => [state.count, version])).to.deep.equal([[0, 0], [1, 1], [2, 2], [3, 0], [4, 1]]);
    expect(await outcome()).to.deep.equal({ done: true, errors: [] });
  });

  it('Elixir: a patch for a version the client has not seen leads to lvs_refresh and the whole state', async () => {
    const { liveState, outcome } = await replay('elixir-missed-patch', 'todo:all');
    const changes = collect<LiveStateChange>(liveState, 'livestate-change');
    liveState.connect();
    await nextEvent(liveState, 'livestate-change', ({ version }: LiveStateChange) => version === 2);
    expect(changes).to.deep.equal([
      { state: { todos: [] }, version: 0 },
      { state: { todos: ['first', 'second'] }, version: 2 },
    ]);
    expect(await outcome()).to.deep.equal({ done: true, errors: [] });
  });

  it('Elixir: a refused join is a livestate-error with the reason', async () => {
    const { liveState, outcome } = await replay('elixir-join-refused', 'todo:all', { api_key: 'wrong' });
    const error = nextEvent<LiveStateError>(liveState, 'livestate-error');
    liveState.connect();
    expect((await error).detail).to.deep.equal({ type: 'channel join error', message: 'unauthorized' });
    expect(liveState.connected).to.equal(false);
    expect(await outcome()).to.deep.equal({ done: true, errors: [] });
  });

  it("Elixir: a failing init is a livestate-error with the server's message, and no state", async () => {
    const { liveState, outcome } = await replay('elixir-init-error', 'todo:all');
    const error = nextEvent<LiveStateError>(liveState, 'livestate-error');
    liveState.connect();
    expect((await error).detail).to.deep.equal({ type: 'server error', message: 'could not load the todos' });
    expect(liveState.state).to.equal(undefined);
    expect(liveState.connected).to.equal(true);
    expect(await outcome()).to.deep.equal({ done: true, errors: [] });
  });

  it('Elixir: a crashed channel is a livestate-error; the client rejoins and gets the state again', async () => {
    const { liveState, outcome } = await replay('elixir-channel-crash', 'todo:all');
    liveState.connect();
    await nextEvent(liveState, 'livestate-change');
    const error = nextEvent<LiveStateError>(liveState, 'livestate-error');
    const disconnected = nextEvent(liveState, 'livestate-disconnect');
    liveState.pushEvent('crash');
    expect((await error).detail).to.deep.equal({ type: 'channel error', message: 'the channel crashed' });
    await disconnected;
    const rejoined = nextEvent(liveState, 'livestate-connect');
    const state = nextEvent<LiveStateChange>(liveState, 'livestate-change');
    await rejoined;
    expect((await state).detail).to.deep.equal({ state: { todos: ['kept'] }, version: 0 });
    expect(await outcome()).to.deep.equal({ done: true, errors: [] });
  });

  it("ours: a LiveState that connects again on a shared socket applies its old join's broadcast patch only as the continuation of its state", async () => {
    const { url, outcome } = await transcript('broadcast-rejoin');
    const keeper = new LiveState({ url, topic: 'other:all' });
    const liveState = new LiveState({ url, topic: 'todo:all' });
    opened.push(keeper, liveState);
    keeper.connect();
    await nextEvent(keeper, 'livestate-change');
    liveState.connect();
    await nextEvent(liveState, 'livestate-change');
    const changes = collect<LiveStateChange>(liveState, 'livestate-change');
    liveState.disconnect();
    liveState.connect();
    await nextEvent(liveState, 'livestate-change', ({ version }: LiveStateChange) => version === 2);
    expect(changes).to.deep.equal([
      { state: { todos: ['first'] }, version: 1 },
      { state: { todos: ['first'] }, version: 1 },
      { state: { todos: ['first', 'second'] }, version: 2 },
    ]);
    expect(liveState.socket).to.equal(keeper.socket, 'one socket: the new join is on the same one');
    expect(await outcome()).to.deep.equal({ done: true, errors: [] });
  });

  it('rejects a state that is not an object, a version that is not a number, and patches that reach for __proto__, are not lists, or make the state a number', async () => {
    const { liveState, outcome } = await replay('hostile', 'hostile:all');
    const changes = collect<LiveStateChange>(liveState, 'livestate-change');
    const errors = collect<LiveStateError>(liveState, 'livestate-error');
    liveState.connect();
    await nextEvent(liveState, 'livestate-change', ({ version }: LiveStateChange) => version === 1);
    expect(errors).to.deep.equal([
      { type: 'state error', message: 'the server sent a state that is not an object (an array)' },
      { type: 'state error', message: 'the server sent a state that is not an object (null)' },
      { type: 'state error', message: 'the server sent a version that is not a whole number ("0")' },
    ]);
    expect(changes).to.deep.equal([
      { state: { todos: [] }, version: 0 },
      { state: { todos: ['safe'] }, version: 1 },
    ]);
    expect(Object.getPrototypeOf(liveState.state)).to.equal(Object.prototype);
    expect(liveState.state!.isAdmin).to.equal(undefined);
    liveState.pushEvent('more');
    await nextEvent(liveState, 'livestate-change', ({ version }: LiveStateChange) => version === 2);
    expect(changes.map(({ version }) => version)).to.deep.equal([0, 1, 2], 'no change from a patch that is not a list, nor from one that makes the state a number');
    expect(liveState.state).to.deep.equal({ todos: ['safe', 'more'] });
    expect(await outcome()).to.deep.equal({ done: true, errors: [] });
  });
});
