import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RedisStorage, StorageConflictError, type State } from '@livestate/server';
import { connectRedis, FencedWriteError, TopicKeys, TopicLease, type RedisClient } from '@livestate/server/cluster';
import { quietLogger } from './support/clients.js';
import { RedisServer } from './support/redis-server.js';
import { waitUntil } from './support/wait-until.js';

describe('cluster building blocks on a real redis-server', () => {
  let redis: RedisServer;
  let client: RedisClient;
  let topicCount = 0;
  const keysOf = () => new TopicKeys('test:', `todo:${++topicCount}`);

  before(async () => {
    redis = await RedisServer.start();
    client = await connectRedis(redis.url, 'test', quietLogger);
  });
  after(async () => {
    await client.close();
    await redis.close();
  });

  it('hands a lease to one node at a time, with a larger fencing token each time', async () => {
    const keys = keysOf();
    const a = new TopicLease(client, keys, 'node-a', 60_000);
    const b = new TopicLease(client, keys, 'node-b', 60_000);
    const first = await a.acquire();
    assert.equal(first, 1);
    assert.equal(await b.acquire(), undefined, 'held by a');
    assert.deepEqual(await b.holder(), { nodeId: 'node-a', token: 1 });

    assert.equal(await b.renew(1), false, 'b cannot renew what a holds');
    assert.equal(await b.release(1), false, 'nor release it');
    assert.equal(await a.renew(1), true);
    assert.equal(await a.release(1), true);

    assert.equal(await b.acquire(), 2);
    assert.equal(await a.renew(1), false, 'a lost it for good');
    assert.equal(await a.acquire(), undefined);
  });

  it('lets a lease lapse when it is not renewed, and the next holder gets a new token', async () => {
    const keys = keysOf();
    const a = new TopicLease(client, keys, 'node-a', 50);
    const b = new TopicLease(client, keys, 'node-b', 60_000);
    assert.equal(await a.acquire(), 1);
    await waitUntil(async () => (await b.holder()) === undefined, 'the lease to expire');
    assert.equal(await b.acquire(), 2);
    assert.equal(await a.renew(1), false);
  });

  it('stores a fenced update only from the lease holder, and publishes it in the same step', async () => {
    const keys = keysOf();
    const topic = keys.topic;
    const storage = new RedisStorage({ client, prefix: 'test:' });
    const a = new TopicLease(client, keys, 'node-a', 60_000);
    assert.equal(await a.acquire(), 1);
    const update = (version: number, state: State) =>
      ({ epoch: 'e1', version, state, follows: { epoch: 'e1', version: version - 1 }, patch: `[${version}]` }) as const;
    await storage.append(topic, { epoch: 'e1', version: 0, state: { n: 0 }, follows: null, patch: '[]' }, { owner: 'node-a/1' });

    const subscriber = client.duplicate();
    await subscriber.connect();
    const published: string[] = [];
    await subscriber.subscribe(keys.updates, (message) => published.push(message));
    for (let version = 1; version <= 3; version++) {
      await storage.append(topic, update(version, { n: version }), { owner: 'node-a/1', publish: `u${version}` });
    }
    await assert.rejects(storage.append(topic, update(2, { n: -1 }), { owner: 'node-a/1', publish: 'not stored' }), StorageConflictError);
    await waitUntil(() => published.length === 3, 'three updates');
    await subscriber.publish(keys.updates, 'end');
    await waitUntil(() => published.at(-1) === 'end', 'the end marker');
    assert.deepEqual(published, ['u1', 'u2', 'u3', 'end'], 'a refused write publishes nothing');
    await subscriber.close();

    assert.equal(await a.release(1), true);
    const b = new TopicLease(client, keys, 'node-b', 60_000);
    assert.equal(await b.acquire(), 2);
    await assert.rejects(storage.append(topic, update(4, { stale: true }), { owner: 'node-a/1' }), FencedWriteError, 'a former owner is fenced off');
    await storage.append(topic, update(4, { n: 4 }), { owner: 'node-b/2' });
    assert.deepEqual(await storage.load(topic), { epoch: 'e1', version: 4, state: { n: 4 } });
  });
});
