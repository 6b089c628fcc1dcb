import assert from 'node:assert/strict';
import jsonPatch from 'fast-json-patch';
import { RawClient, type Frame } from './clients.js';

const MAX_VERSION = 1000;

/**
 * A raw client joined to a topic that checks what a member must see: versions that follow
 * one another (wrapping after 1000), patches that apply, and `state:change` only when asked.
 * It can push a steady load, one event after the other's acknowledgement, and rejoin
 * elsewhere with `lvs_resume`.
 */
export class ClusterMember {
  state: any;
  version = -1;
  epoch = '';
  /** `state:change` frames received since the last (re)join's first state. */
  changes = 0;
  readonly acked = new Map<string, number>();
  readonly failed = new Map<string, string>();
  private seen = 0;
  private nextEvent = 0;
  private running: Promise<void> | undefined;
  private stopping = false;
  private waiters: Array<() => void> = [];

  private constructor(
    public client: RawClient,
    readonly name: string,
    readonly topic: string,
    public joinRef: string,
  ) {}

  static async join(url: string, name: string, topic: string): Promise<ClusterMember> {
    const client = await RawClient.connect(url);
    const joinRef = await ClusterMember.joinOn(client, topic, {});
    const member = new ClusterMember(client, name, topic, joinRef);
    await client.nextEvent('state:change', topic);
    member.catchUp();
    member.changes = 0;
    return member;
  }

  private static async joinOn(client: RawClient, topic: string, params: object): Promise<string> {
    const joinRef = client.join(topic, params);
    const reply = await client.nextReply(joinRef);
    assert.equal(reply[4].status, 'ok', JSON.stringify(reply));
    return joinRef;
  }

  /** Reconnects to `url` presenting the epoch and version it saw; the caller checks {@link changes}. */
  async rejoin(url: string): Promise<void> {
    this.catchUp();
    this.client = await RawClient.connect(url);
    this.seen = 0;
    this.changes = 0;
    this.joinRef = await ClusterMember.joinOn(this.client, this.topic, { lvs_resume: { epoch: this.epoch, version: this.version } });
  }

  /** Pushes an event and resolves with its acknowledgement's payload (rejects when the socket closes first). */
  async push(event: string, payload: object): Promise<{ status: string; response: any }> {
    const ref = this.client.ref();
    this.client.send([this.joinRef, ref, this.topic, `lvs_evt:${event}`, payload]);
    return (await this.client.nextReply(ref))[4];
  }

  /** Adds todos one after the other until {@link stop} or until the socket closes. */
  startLoad(): void {
    this.stopping = false;
    this.running = (async () => {
      while (!this.stopping) {
        const text = `${this.name}-${this.nextEvent++}`;
        let ack;
        try {
          ack = await this.push('addTodo', { todo: text });
        } catch {
          return; // the socket closed: the outcome is unknown
        }
        if (ack.status === 'ok') this.acked.set(text, ack.response.version);
        else this.failed.set(text, ack.response.reason);
        this.wake();
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.running;
  }

  /** Resolves once `condition` holds, checked after every acknowledgement. */
  async until(condition: (member: this) => boolean): Promise<void> {
    while (!condition(this)) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  /**
   * Asks for the whole state and checks it is what the patches built: the owner answers after
   * every update before it, so by then this member has all of them.
   */
  async verify(): Promise<void> {
    const ref = this.client.ref();
    this.client.send([this.joinRef, ref, this.topic, 'lvs_refresh', {}]);
    const change = await this.client.next((frame) => frame[3] === 'state:change' && frame[2] === this.topic, 'the refreshed state');
    const index = this.client.frames.lastIndexOf(change);
    this.catchUp(index);
    assert.equal(change[4].version, this.version, `${this.name}: the patches reached the refreshed version (${this.changes} changes; last frames ${JSON.stringify(this.client.frames.slice(Math.max(0, index - 6), index + 1).map((f) => [f[3], f[4]?.version ?? f[4]?.status, f[4]?.response?.reason]))})`);
    assert.deepEqual(this.state, change[4].state, `${this.name}: the patches built the refreshed state`);
    this.seen = index + 1;
  }

  texts(): string[] {
    return this.state.todos.map((todo: { text: string }) => todo.text);
  }

  /** Applies every frame received so far (or up to `end`), asserting versions are contiguous. */
  catchUp(end = this.client.frames.length): void {
    for (; this.seen < end; this.seen++) this.apply(this.client.frames[this.seen]!);
  }

  private apply([, , topic, event, payload]: Frame): void {
    if (topic !== this.topic) return;
    if (event === 'state:change') {
      this.state = payload.state;
      this.version = payload.version;
      this.epoch = payload.epoch;
      this.changes++;
    } else if (event === 'state:patch') {
      const expected = this.version >= MAX_VERSION ? 0 : this.version + 1;
      assert.equal(payload.version, expected, `${this.name}: contiguous versions (${this.version} then ${payload.version})`);
      this.state = jsonPatch.applyPatch(structuredClone(this.state), payload.patch).newDocument;
      this.version = payload.version;
    }
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
