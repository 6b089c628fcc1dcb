import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import jsonPatch from 'fast-json-patch';
import { RawClient, type Frame } from './support/clients.js';
import { startNodes, type LiveStateNode } from './support/cluster-nodes.js';
import { guestPath } from './support/guests.js';
import { RedisServer } from './support/redis-server.js';

const CHANNEL = `todo:*=${guestPath('todo')},scope=topic`;

/** A raw client joined to a topic: its initial state, then every patch it gets, checked to be contiguous. */
class Member {
  state: any;
  version = -1;
  epoch = '';
  private seen = 0;

  private constructor(
    readonly client: RawClient,
    readonly topic: string,
    readonly joinRef: string,
  ) {}

  static async join(url: string, topic: string, params: object = {}): Promise<Member> {
    const client = await RawClient.connect(url);
    const joinRef = client.join(topic, params);
    const reply = await client.nextReply(joinRef);
    assert.equal(reply[4].status, 'ok', JSON.stringify(reply));
    const member = new Member(client, topic, joinRef);
    const change = await client.nextEvent('state:change', topic);
    member.apply(change);
    return member;
  }

  /** Pushes an event; resolves with its acknowledgement's payload. */
  async push(event: string, payload: object): Promise<any> {
    const ref = this.client.ref();
    this.client.send([this.joinRef, ref, this.topic, `lvs_evt:${event}`, payload]);
    return (await this.client.nextReply(ref))[4];
  }

  /** Applies every state frame received so far, asserting versions are contiguous. */
  catchUp(): void {
    const frames = this.client.frames;
    for (; this.seen < frames.length; this.seen++) this.apply(frames[this.seen]!);
  }

  private apply(frame: Frame): void {
    const [, , topic, event, payload] = frame;
    if (topic !== this.topic) return;
    if (event === 'state:change') {
      this.state = payload.state;
      this.version = payload.version;
      this.epoch = payload.epoch;
    } else if (event === 'state:patch') {
      assert.equal(payload.version, this.version + 1, `contiguous versions (${this.version} then ${payload.version})`);
      this.state = jsonPatch.applyPatch(structuredClone(this.state), payload.patch).newDocument;
      this.version = payload.version;
    }
  }
}

describe('a cluster of livestate processes on one Redis', () => {
  let redis: RedisServer;
  let nodes: LiveStateNode[] = [];

  before(async () => {
    redis = await RedisServer.start();
    nodes = await startNodes(3, redis.url, [CHANNEL], ['--lease', '1']);
  });
  after(async () => {
    for (const node of nodes) node.kill('SIGKILL');
    await Promise.all(nodes.map((node) => node.exited));
    await redis.close();
  });

  it('gives members on every node the same state, contiguous versions, each event applied once', async () => {
    const topic = 'todo:shared';
    const members = await Promise.all(nodes.flatMap((node) => [1, 2, 3].map(() => Member.join(node.url, topic))));
    const perMember = 15;
    const acks = await Promise.all(
      members.map((member, m) =>
        Promise.all(Array.from({ length: perMember }, (_, i) => member.push('addTodo', { todo: `m${m}-e${i}` }))),
      ),
    );
    const versions = acks.flat().map((ack) => {
      assert.equal(ack.status, 'ok', JSON.stringify(ack));
      return ack.response.version as number;
    });
    const total = members.length * perMember;
    assert.equal(new Set(versions).size, total, 'every event committed at a version of its own');

    for (const member of members) {
      await member.client.drain();
      member.catchUp();
      // An ack comes after the patch it acknowledges, so by now every member may not have every patch:
      // wait for the last version to arrive everywhere.
      while (member.version < Math.max(...versions)) {
        await member.client.nextEvent('state:patch', topic);
        member.catchUp();
      }
    }
    const texts = members[0]!.state.todos.map((todo: { text: string }) => todo.text).sort();
    const expected = members.flatMap((_, m) => Array.from({ length: perMember }, (_, i) => `m${m}-e${i}`)).sort();
    assert.deepEqual(texts, expected, 'no event lost or applied twice');
    for (const member of members) assert.deepEqual(member.state, members[0]!.state);
    for (const member of members) member.client.close();
  });
});
