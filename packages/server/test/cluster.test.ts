import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { LiveStateServer } from '@livestate/server';
import { connectRedis, TopicKeys, TopicLease } from '@livestate/server/cluster';
import { CaptureLogger } from './support/capture-logger.js';
import { run } from './support/cli.js';
import { RawClient } from './support/clients.js';
import { ClusterMember } from './support/cluster-member.js';
import { startNodes, type LiveStateNode } from './support/cluster-nodes.js';
import { guestPath } from './support/guests.js';
import { RedisServer } from './support/redis-server.js';
import { todoHandler } from './support/todo-handler.js';
import { waitUntil } from './support/wait-until.js';

const CHANNELS = [`todo:*=${guestPath('todo')},scope=topic`, `resident:*=${guestPath('resident')},scope=topic`];
const LEASE = ['--lease', '1'];

const ownsTopic = (topic: string) => new RegExp(`owns topic "${topic}"`);

/** The node that took the topic first: it logged so. */
function ownerOf(nodes: LiveStateNode[], topic: string): LiveStateNode {
  const owners = nodes.filter((node) => node.lines.some((line) => ownsTopic(topic).test(line)));
  assert.equal(owners.length, 1, `one owner of ${topic}`);
  return owners[0]!;
}

/** Every member ends with the same state, built from contiguous patches; every acknowledged event is in it once. */
async function assertConverged(members: ClusterMember[]): Promise<void> {
  for (const member of members) await member.verify();
  const texts = members[0]!.texts();
  assert.equal(new Set(texts).size, texts.length, 'no event applied twice');
  for (const member of members) {
    assert.deepEqual(member.state, members[0]!.state, `${member.name} has the same state`);
    for (const text of member.acked.keys()) assert.ok(texts.includes(text), `acknowledged ${text} is in the state`);
  }
}

describe('a cluster of livestate processes on one Redis', () => {
  const cleanup: Array<() => Promise<void>> = [];
  after(async () => {
    for (const step of cleanup.reverse()) await step();
  });

  async function cluster(count: number, redisOptions = {}, lease = LEASE): Promise<{ redis: RedisServer; nodes: LiveStateNode[] }> {
    const redis = await RedisServer.start(redisOptions);
    cleanup.push(() => redis.close());
    const nodes = await startNodes(count, redis.url, CHANNELS, lease);
    cleanup.push(async () => {
      for (const node of nodes) {
        node.kill('SIGCONT');
        node.kill('SIGKILL');
      }
      await Promise.all(nodes.map((node) => node.exited));
    });
    return { redis, nodes };
  }

  it('gives members on every node the same state, contiguous versions, each event applied once', async () => {
    const { nodes } = await cluster(3);
    const topic = 'todo:shared';
    const members = await Promise.all(nodes.flatMap((node, n) => [0, 1, 2].map((m) => ClusterMember.join(node.url, `n${n}m${m}`, topic))));
    const perMember = 15;
    await Promise.all(
      members.map(async (member) => {
        for (let i = 0; i < perMember; i++) {
          const ack = await member.push('addTodo', { todo: `${member.name}-${i}` });
          assert.equal(ack.status, 'ok', JSON.stringify(ack));
          member.acked.set(`${member.name}-${i}`, ack.response.version);
        }
      }),
    );
    const versions = members.flatMap((member) => [...member.acked.values()]);
    assert.equal(new Set(versions).size, members.length * perMember, 'every event committed at a version of its own');
    await assertConverged(members);
    assert.equal(members[0]!.texts().length, members.length * perMember, 'nothing lost');
  });

  for (const prefix of ['todo', 'resident']) {
    it(`moves a topic whose owner is killed to another node; acknowledged events survive and its clients resume with patches (${prefix}.wasm)`, async () => {
      const { nodes } = await cluster(3);
      const topic = `${prefix}:failover`;
      const members = await Promise.all(nodes.flatMap((node, n) => [0, 1].map((m) => ClusterMember.join(node.url, `n${n}m${m}`, topic))));
      const owner = ownerOf(nodes, topic);
      const survivors = nodes.filter((node) => node !== owner);
      const orphans = members.filter((member) => member.client.ws.url.startsWith(owner.url));
      members.forEach((member) => member.startLoad());
      await Promise.all(members.map((member) => member.until((m) => m.acked.size >= 5)));

      owner.kill('SIGKILL');
      await owner.exited;
      await Promise.all(orphans.map((member) => member.client.closedWith()));
      const acksAtKill = new Map(members.map((member) => [member, member.acked.size]));
      await Promise.all(orphans.map((member, i) => member.stop().then(() => member.rejoin(survivors[i % 2]!.url))));
      await Promise.race(survivors.map((node) => node.waitFor(ownsTopic(topic))));
      orphans.forEach((member) => member.startLoad());
      await Promise.all(members.map((member) => member.until((m) => m.acked.size >= acksAtKill.get(m)! + 5)));
      await Promise.all(members.map((member) => member.stop()));

      for (const member of orphans) {
        member.catchUp();
        assert.equal(member.changes, 0, `${member.name} resumed on another node with patches only`);
      }
      await assertConverged(members);
      const texts = members[0]!.texts();
      for (const member of members) {
        for (const [text, reason] of member.failed) {
          assert.match(reason, /stopped before it applied this event; it was not applied/);
          assert.ok(!texts.includes(text), `${text} failed and is not in the state`);
        }
      }
    });

  }

  it('never lets an owner paused past its lease write again', async () => {
    const { nodes } = await cluster(3);
    const topic = 'todo:paused';
    const members = await Promise.all(nodes.map((node, n) => ClusterMember.join(node.url, `n${n}`, topic)));
    const owner = ownerOf(nodes, topic);
    const others = members.filter((member) => !member.client.ws.url.startsWith(owner.url));
    members.forEach((member) => member.startLoad());
    await Promise.all(members.map((member) => member.until((m) => m.acked.size >= 3)));

    owner.kill('SIGSTOP');
    // Requests forwarded to the paused owner wait in its socket; another node takes the topic once the lease expires.
    await Promise.race(nodes.filter((node) => node !== owner).map((node) => node.waitFor(ownsTopic(topic))));
    const acksAtTakeover = new Map(others.map((member) => [member, member.acked.size]));
    await Promise.all(others.map((member) => member.until((m) => m.acked.size >= acksAtTakeover.get(m)! + 5)));

    owner.kill('SIGCONT');
    // Woken, it still believes it owns the topic and works through what waited: every write is refused.
    await owner.waitFor(/no longer holds the topic's lease|lost the lease/);
    await Promise.all(others.map((member) => member.until((m) => m.acked.size >= acksAtTakeover.get(m)! + 10)));
    await Promise.all(members.map((member) => member.stop()));

    await assertConverged(others);
    const texts = others[0]!.texts();
    for (const member of members) {
      for (const [text] of member.failed) assert.ok(!texts.includes(text), `${text} failed and is not in the state`);
    }
  });

  it('fails events while Redis is down and works again when it is back, with nothing acknowledged lost', async () => {
    const { redis, nodes } = await cluster(2, { durable: true });
    const topic = 'todo:redis-restart';
    const members = await Promise.all(nodes.flatMap((node, n) => [0, 1].map((m) => ClusterMember.join(node.url, `n${n}m${m}`, topic))));
    members.forEach((member) => member.startLoad());
    await Promise.all(members.map((member) => member.until((m) => m.acked.size >= 3)));

    await redis.stop();
    await Promise.all(members.map((member) => member.until((m) => m.failed.size >= 1)));
    for (const member of members) {
      for (const reason of member.failed.values()) assert.match(reason, /Redis/, `a precise reason: ${reason}`);
    }
    const acksWhileDown = new Map(members.map((member) => [member, member.acked.size]));
    const framesWhileDown = new Map(members.map((member) => [member, member.client.frames.length]));
    await redis.restart();
    // Every node lost its subscriptions, so every member may have missed updates: it gets the whole state again.
    const resynchronized = (member: ClusterMember) =>
      member.client.frames.slice(framesWhileDown.get(member)).some((frame) => frame[3] === 'state:change');
    await Promise.all(members.map((member) => member.until((m) => m.acked.size >= acksWhileDown.get(m)! + 5 && resynchronized(m))));
    await Promise.all(members.map((member) => member.stop()));
    await Promise.all(nodes.map((node) => node.waitFor(/Redis .* is back/)));
    await assertConverged(members);
  });

  it('hands its topics over on SIGTERM and closes its sockets with a close frame, so clients move on at once', async () => {
    // A lease of an hour: only a handover can move the topic during this test.
    const { nodes } = await cluster(2, {}, ['--lease', '3600']);
    const topic = 'todo:handover';
    // Several members under load on each node: requests are in flight to the owner, both ways, while it hands over.
    const members = await Promise.all(nodes.flatMap((node, n) => [0, 1, 2].map((m) => ClusterMember.join(node.url, `n${n}m${m}`, topic))));
    const owner = ownerOf(nodes, topic);
    const other = nodes.find((node) => node !== owner)!;
    const leaving = members.filter((member) => member.client.ws.url.startsWith(owner.url));
    const staying = members.filter((member) => !leaving.includes(member));
    members.forEach((member) => member.startLoad());
    await Promise.all(members.map((member) => member.until((m) => m.acked.size >= 3)));

    owner.kill('SIGTERM');
    for (const member of leaving) assert.deepEqual(await member.client.closedWith(), { code: 1001, reason: 'server shutting down' });
    assert.equal(await owner.exited, 0);
    await Promise.all(leaving.map((member) => member.stop().then(() => member.rejoin(other.url))));
    leaving.forEach((member) => member.startLoad());
    await other.waitFor(ownsTopic(topic));
    const acks = new Map(members.map((member) => [member, member.acked.size]));
    await Promise.all(members.map((member) => member.until((m) => m.acked.size >= acks.get(m)! + 5)));
    await Promise.all(members.map((member) => member.stop()));
    for (const member of staying) assert.deepEqual([...member.failed], [], `${member.name}: no event failed during the handover`);
    for (const member of leaving) {
      member.catchUp();
      assert.equal(member.changes, 0, `${member.name} resumed with patches only`);
    }
    await assertConverged(members);
  });

  it('livestate serve --redis: exits with the reason when Redis cannot be reached; refuses --data beside it', async () => {
    const unreachable = await run(['serve', '--port', '0', '--redis', 'redis://127.0.0.1:1', '--channel', CHANNELS[0]!]);
    assert.equal(unreachable.code, 1);
    assert.match(unreachable.stderr, /cannot connect to Redis redis:\/\/127\.0\.0\.1:1: connect ECONNREFUSED/);
    const both = await run(['serve', '--redis', 'redis://127.0.0.1:1', '--data', 'x.db', '--channel', CHANNELS[0]!]);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /--redis keeps topic states in Redis: --data and --fsync do not apply/);
  });

  it('hands back a topic that gets no request for unloadAfterMs, and takes it again from Redis on the next one (the API)', async () => {
    const redis = await RedisServer.start();
    cleanup.push(() => redis.close());
    const logger = new CaptureLogger();
    const server = new LiveStateServer({
      routes: [{ topic: 'todo:*', handler: todoHandler, scope: 'topic' }],
      cluster: { redis: redis.url, leaseSeconds: 0.3 },
      unloadAfterMs: 100,
      logger,
    });
    await server.listen({ port: 0 });
    cleanup.push(() => server.close());
    const client = await RawClient.connect(server.url);
    const joinRef = client.join('todo:idle');
    await client.nextEvent('state:change');
    const push = async (todo: string) => {
      const ref = client.ref();
      client.send([joinRef, ref, 'todo:idle', 'lvs_evt:addTodo', { todo }]);
      return (await client.nextReply(ref))[4];
    };
    assert.deepEqual(await push('first'), { status: 'ok', response: { version: 1 } });
    await logger.waitFor(/released topic "todo:idle"/);
    const redisClient = await connectRedis(redis.url, 'test', logger);
    assert.equal(await new TopicLease(redisClient, new TopicKeys('livestate:', 'todo:idle'), 'test', 1000).holder(), undefined);
    await redisClient.close();

    assert.deepEqual(await push('second'), { status: 'ok', response: { version: 2 } }, 'the state came back from Redis');
    await logger.waitFor(/owns topic "todo:idle" \(fencing token 2\)/);
    client.close();
  });

  it('keeps a connection-scoped state in Redis: its client resumes it on another node within the grace period, and gets a fresh one after', async () => {
    const redis = await RedisServer.start();
    cleanup.push(() => redis.close());
    const [a, b] = await Promise.all(
      [0, 1].map(async () => {
        const server = new LiveStateServer({
          routes: [{ topic: 'todo:*', handler: todoHandler }],
          cluster: { redis: redis.url },
          connectionGraceMs: 300,
          logger: new CaptureLogger(),
        });
        await server.listen({ port: 0 });
        cleanup.push(() => server.close());
        return server;
      }),
    );
    const first = await RawClient.connect(a!.url);
    const firstJoin = first.join('todo:mine');
    const { epoch } = (await first.nextEvent('state:change'))[4];
    for (const todo of ['one', 'two']) {
      const ref = first.ref();
      first.send([firstJoin, ref, 'todo:mine', 'lvs_evt:addTodo', { todo }]);
      assert.equal((await first.nextReply(ref))[4].status, 'ok');
    }
    first.close();
    await first.closedWith();

    const second = await RawClient.connect(b!.url);
    const secondJoin = second.join('todo:mine', { lvs_resume: { epoch, version: 1 } });
    const resumed = await second.next((frame) => frame[3] === 'state:patch' || frame[3] === 'state:change', 'the resumed state');
    assert.equal(resumed[3], 'state:patch', 'the missed patch only, from Redis, on the other node');
    assert.equal(resumed[4].version, 2);
    const ref = second.ref();
    second.send([secondJoin, ref, 'todo:mine', 'lvs_evt:addTodo', { todo: 'three' }]);
    assert.deepEqual((await second.nextReply(ref))[4], { status: 'ok', response: { version: 3 } });
    second.send([secondJoin, second.ref(), 'todo:mine', 'lvs_refresh', {}]);
    const refreshed = (await second.nextEvent('state:change'))[4];
    assert.deepEqual(refreshed.state.todos.map((todo: { text: string }) => todo.text), ['one', 'two', 'three']);
    assert.equal(refreshed.epoch, epoch);
    second.close();
    await second.closedWith();

    const redisClient = await connectRedis(redis.url, 'test', new CaptureLogger());
    await waitUntil(async () => (await redisClient.exists(`livestate:{connection:${epoch}:todo:mine}:state`)) === 0, 'the grace period to end');
    await redisClient.close();
    const third = await RawClient.connect(a!.url);
    third.join('todo:mine', { lvs_resume: { epoch, version: 3 } });
    const fresh = (await third.nextEvent('state:change'))[4];
    assert.notEqual(fresh.epoch, epoch);
    assert.deepEqual(fresh.state.todos, []);
    third.close();
  });

  it('refuses cluster options that cannot work when the server is built, naming them', () => {
    const build = (cluster: unknown) => () => new LiveStateServer({ routes: [], cluster: cluster as never });
    assert.throws(build({ leaseSeconds: 5 }), /invalid cluster\.redis: expected a Redis URL such as "redis:\/\/127\.0\.0\.1:6379", got undefined/);
    assert.throws(build({ redis: 'redis://x', leaseSeconds: 0 }), /invalid cluster\.leaseSeconds: expected a positive number of seconds, got 0/);
    assert.throws(build({ redis: 'redis://x', patchWindow: 1.5 }), /invalid cluster\.patchWindow: expected a positive integer, got number 1\.5/);
  });
});
