// Durability against the real thing: a `livestate serve` process killed with SIGKILL in the
// middle of a load, then started again on the same data file.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import jsonPatch from 'fast-json-patch';
import { exited, serve } from './support/cli.js';
import { RawClient, type Frame } from './support/clients.js';
import { guestPath } from './support/guests.js';

const TOPIC = 'todo:load';
const WRITERS = 4;
const IN_FLIGHT = 4;
const KILL_AFTER_ACKS = 80;

const directory = await mkdtemp(join(tmpdir(), 'livestate-kill-'));
const children: ChildProcess[] = [];
const clients: RawClient[] = [];
after(async () => {
  clients.forEach((client) => client.close());
  children.forEach((child) => child.kill('SIGKILL'));
  await rm(directory, { recursive: true, force: true });
});

async function start(file: string): Promise<string> {
  const { child, url } = await serve(['--port', '0', '--data', file, '--channel', `todo:*=${guestPath('todo')},scope=topic`]);
  children.push(child);
  return url;
}

async function connect(url: string): Promise<RawClient> {
  const client = await RawClient.connect(url);
  clients.push(client);
  return client;
}

interface Todo {
  text: string;
}

/** A client that keeps its copy of the state from state:change and state:patch, as an element does. */
class Reader {
  state: { todos: Todo[] } = { todos: [] };
  version = -1;
  epoch = '';

  constructor(readonly client: RawClient) {
    client.ws.on('message', (data) => this.receive(JSON.parse(data.toString()) as Frame));
  }

  private receive([, , , event, payload]: Frame): void {
    if (event === 'state:change') ({ state: this.state, version: this.version, epoch: this.epoch } = payload);
    if (event === 'state:patch') {
      assert.equal(payload.version, this.version + 1, 'patches arrive in order');
      this.state = jsonPatch.applyPatch(this.state, payload.patch, true, false).newDocument;
      this.version = payload.version;
    }
  }
}

/** Sends addTodo events, a few in flight at a time, until the socket dies; records each acknowledged one. */
async function write(client: RawClient, name: string, onAck: (todo: string, version: number) => void): Promise<void> {
  const joinRef = client.join(TOPIC);
  await client.nextReply(joinRef);
  let sent = 0;
  const sendOne = () => {
    const todo = `${name}-${sent++}`;
    const ref = client.ref();
    client.send([joinRef, ref, TOPIC, 'lvs_evt:addTodo', { todo }]);
    return client.nextReply(ref).then(([, , , , reply]) => {
      assert.equal(reply.status, 'ok');
      onAck(todo, reply.response.version);
    });
  };
  const lane = async () => {
    for (;;) await sendOne();
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane)).catch(() => undefined);
}

describe('SIGKILL in the middle of a load', () => {
  it('keeps every acknowledged event; versions continue; a client presenting its epoch resumes with patches only', async () => {
    const file = join(directory, 'load.db');
    const url = await start(file);
    const reader = new Reader(await connect(url));
    reader.client.join(TOPIC);
    await reader.client.nextEvent('state:change');

    const acked = new Map<string, number>();
    let killed!: () => void;
    const enoughAcks = new Promise<void>((resolve) => (killed = resolve));
    const writers = await Promise.all(Array.from({ length: WRITERS }, () => connect(url)));
    const load = writers.map((client, i) =>
      write(client, `w${i}`, (todo, version) => {
        acked.set(todo, version);
        if (acked.size === KILL_AFTER_ACKS) killed();
      }),
    );
    await enoughAcks;
    const server = children.at(-1)!;
    server.kill('SIGKILL');
    await exited(server);
    await Promise.all(load);
    assert.ok(acked.size >= KILL_AFTER_ACKS);

    const restarted = await start(file);
    const fresh = await connect(restarted);
    fresh.join(TOPIC);
    const [, , , , restored] = await fresh.nextEvent('state:change');
    const texts = new Set(restored.state.todos.map((todo: Todo) => todo.text));
    const lost = [...acked.keys()].filter((todo) => !texts.has(todo));
    assert.deepEqual(lost, [], 'every acknowledged event is in the state');
    assert.ok(restored.version >= Math.max(...acked.values()), 'the stored version is at least the last acknowledged one');
    assert.equal(restored.epoch, reader.epoch, 'the history continues');

    // The reader comes back with its epoch and version: patches only, up to the stored state.
    const again = await connect(restarted);
    const resumed = Object.assign(new Reader(again), { state: reader.state, version: reader.version, epoch: reader.epoch });
    const joinRef = again.join(TOPIC, { lvs_resume: { epoch: reader.epoch, version: reader.version } });
    await again.nextReply(joinRef);
    const ref = again.ref();
    again.send([joinRef, ref, TOPIC, 'lvs_evt:addTodo', { todo: 'after the restart' }]);
    const frames = await again.untilReply(ref);
    assert.deepEqual(new Set(frames.map((frame) => frame[3])), new Set(['state:patch', 'todo-added', 'phx_reply']), 'no state:change');
    assert.equal(frames.at(-1)![4].response.version, restored.version + 1, 'versions continue');
    assert.deepEqual(resumed.state, { ...restored.state, todos: [...restored.state.todos, { id: restored.state.nextId, text: 'after the restart', done: false }], nextId: restored.state.nextId + 1 });
  });
});
