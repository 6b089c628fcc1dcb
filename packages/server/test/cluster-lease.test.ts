import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connectRedis, FencedWriteError, RedisTopicStore, TopicKeys, TopicLease, type RedisClient } from '@livestate/server/cluster';
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

  it('stores an update only from the lease holder at the stored version, and publishes it in the same step', async () => {
    const keys = keysOf();
    const store = new RedisTopicStore(client, keys, 3);
    const a = new TopicLease(client, keys, 'node-a', 60_000);
    assert.equal(await a.acquire(), 1);
    await store.commit({ owner: 'node-a/1', previousSeq: -1, seq: 0, stateJson: '{"n":0}', epoch: 'e1' });
    assert.deepEqual(await store.load(), { stateJson: '{"n":0}', seq: 0, epoch: 'e1' });

    const subscriber = client.duplicate();
    await subscriber.connect();
    const published: string[] = [];
    await subscriber.subscribe(keys.updates, (message) => published.push(message));
    for (let seq = 1; seq <= 5; seq++) {
      await store.commit({ owner: 'node-a/1', previousSeq: seq - 1, seq, stateJson: `{"n":${seq}}`, epoch: 'e1', patchJson: `{"v":${seq}}`, update: `u${seq}` });
    }
    await waitUntil(() => published.length === 5, 'five updates');
    assert.deepEqual(published, ['u1', 'u2', 'u3', 'u4', 'u5']);
    await subscriber.close();

    await assert.rejects(
      store.commit({ owner: 'node-a/1', previousSeq: 3, seq: 4, stateJson: '{"n":-1}', epoch: 'e1' }),
      (error: Error) => error instanceof FencedWriteError && /stored state is at 5, not 3/.test(error.message),
    );
    assert.deepEqual(await store.patchesAfter(3, 5), ['{"v":4}', '{"v":5}']);
    assert.deepEqual(await store.patchesAfter(5, 5), []);
    assert.equal(await store.patchesAfter(1, 5), undefined, 'the log keeps the latest 3 only');

    assert.equal(await a.release(1), true);
    const b = new TopicLease(client, keys, 'node-b', 60_000);
    assert.equal(await b.acquire(), 2);
    await assert.rejects(
      store.commit({ owner: 'node-a/1', previousSeq: 5, seq: 6, stateJson: '{"stale":true}', epoch: 'e1' }),
      (error: Error) => error instanceof FencedWriteError && /no longer held/.test(error.message),
      'a former owner is fenced off',
    );
    assert.deepEqual(await store.load(), { stateJson: '{"n":5}', seq: 5, epoch: 'e1' });
  });
});
