import { expect } from 'chai';
import { connectElement, LiveState, type LiveStateChange } from '../src/index.js';
import { nextEvent, serverUrl, uniqueTopic, until } from './support.js';

describe('connectElement', () => {
  let url: string;
  let el: HTMLElement & Record<string, any>;

  before(async () => {
    url = await serverUrl();
  });
  beforeEach(() => {
    el = document.body.appendChild(document.createElement('div')) as any;
  });
  afterEach(() => el.remove());

  it('sets properties (by name, JSON pointer and dotted path) and attributes from the state', async () => {
    const undo = connectElement(el, {
      url,
      topic: uniqueTopic('echo'),
      properties: ['count', { name: 'deep', path: 'nested.deep.value' }, { name: 'pointer', path: '/nested/deep' }, { name: 'missing', path: 'no.such.branch' }],
      attributes: ['label', 'count', 'toString'],
    });
    await until(() => el.count === 0);
    expect(el.deep).to.equal('found');
    expect(el.pointer).to.deep.equal({ value: 'found' });
    expect(el.missing).to.equal(undefined);
    expect(el.getAttribute('label')).to.equal('echo');
    expect(el.getAttribute('count')).to.equal('0');
    expect(el.hasAttribute('toString'), 'an inherited member is not a state key').to.equal(false);
    expect(el.liveState).to.be.instanceOf(LiveState);
    undo();
  });

  it('sends element events and re-dispatches received server events on the element', async () => {
    const liveState = new LiveState({ url, topic: uniqueTopic('echo') });
    const undo = connectElement(liveState, el, { events: { send: ['say-hello'], receive: ['received'] } });
    await nextEvent(liveState, 'livestate-change');
    const received = nextEvent(el, 'received');
    el.dispatchEvent(new CustomEvent('say-hello', { detail: { to: 'world' } }));
    expect((await received).detail).to.deep.equal({ name: 'say-hello', payload: { to: 'world' } });
    undo();
    liveState.disconnect();
  });

  it('sends a form submit as the form fields, without reloading the page', async () => {
    el.innerHTML = `<form><input name="todo" value="from a form"><input name="tag" value="x"><button>Add</button></form>`;
    const liveState = new LiveState({ url, topic: uniqueTopic('echo') });
    const undo = connectElement(liveState, el, { events: { send: ['submit'] } });
    await nextEvent(liveState, 'livestate-change');
    const received = nextEvent(liveState, 'received');
    el.querySelector('button')!.click();
    expect((await received).detail).to.deep.equal({ name: 'submit', payload: { todo: 'from a form', tag: 'x' } });
    undo();
    liveState.disconnect();
  });

  it('is idempotent: connecting an element twice sends each event once', async () => {
    const options = { url, topic: uniqueTopic('echo'), properties: ['count', 'last'], events: { send: ['ping'] } };
    const undo = connectElement(el, options);
    expect(connectElement(el, options), 'the options form again').to.equal(undo);
    await until(() => el.count === 0);
    expect(connectElement(el.liveState, el, options), 'the same LiveState again').to.equal(undo);
    el.dispatchEvent(new CustomEvent('ping'));
    el.liveState.pushEvent('done');
    await until(() => el.last?.name === 'done');
    expect(el.count).to.equal(2, 'one ping and one done');
    undo();
    undo();
    expect(el.liveState).to.equal(undefined);
  });

  it('returns a function that removes every listener it added and disconnects what it created', async () => {
    const undo = connectElement(el, { url, topic: uniqueTopic('echo'), properties: ['count'], events: { send: ['ping'], receive: ['received'] } });
    await until(() => el.count === 0);
    const liveState: LiveState = el.liveState;
    let receivedOnElement = 0;
    el.addEventListener('received', () => receivedOnElement++);
    undo();
    expect(el.liveState).to.equal(undefined);
    expect(liveState.channel).to.equal(undefined, 'the LiveState it created is disconnected');
    el.dispatchEvent(new CustomEvent('ping'));

    const observer = new LiveState({ url, topic: uniqueTopic('echo') });
    const undoBorrowed = connectElement(observer, el, { properties: ['count'] });
    await nextEvent<LiveStateChange>(observer, 'livestate-change');
    undoBorrowed();
    expect(observer.channel, 'a LiveState passed in stays connected').not.to.equal(undefined);
    observer.pushEvent('bump');
    await nextEvent<LiveStateChange>(observer, 'livestate-change', ({ state }) => state.count === 1);
    expect(el.count, 'no longer updated').to.equal(0);
    expect(receivedOnElement).to.equal(0);
    observer.disconnect();
  });
});
