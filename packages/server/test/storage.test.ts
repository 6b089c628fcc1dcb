import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { diff, MemoryStorage, RedisStorage, SqliteStorage, StorageConflictError, type JsonValue, type State, type Storage, type Update } from '@livestate/server';
import { RedisServer } from './support/redis-server.js';

const directory = await mkdtemp(join(tmpdir(), 'livestate-storage-'));
const redis = await RedisServer.start();
after(() => Promise.all([rm(directory, { recursive: true, force: true }), redis.close()]));
let files = 0;
const newFile = () => join(directory, `${++files}.db`);

const fresh = (epoch: string, state: State): Update => ({ epoch, version: 0, state, follows: null, patch: '[]' });
/** The patch that sets `n` to `value`: states in these tests are `{n}`. */
const setN = (value: number) => JSON.stringify([{ op: 'add', path: '/n', value }]);

const next = (epoch: string, version: number, state: State, patch = setN(version), from = version - 1): Update => ({
  epoch,
  version,
  state,
  follows: { epoch, version: from },
  patch,
});

/** Appends `count` updates after version 0 of epoch `e`, each setting `n` to its version. */
async function appendRun(storage: Storage, topic: string, count: number, wrapAfter = Infinity): Promise<number> {
  let version = 0;
  for (let i = 0; i < count; i++) {
    const following = version >= wrapAfter ? 0 : version + 1;
    await storage.append(topic, next('e', following, { n: following }, setN(following), version));
    version = following;
  }
  return version;
}

const implementations: Array<[string, (window?: number) => Storage]> = [
  ['MemoryStorage', (patchWindow) => new MemoryStorage({ patchWindow })],
  ['SqliteStorage', (patchWindow) => new SqliteStorage(newFile(), { patchWindow })],
  // With fsync, writes of the same turn share a transaction: each must still be checked on its own.
  ['SqliteStorage with fsync', (patchWindow) => new SqliteStorage(newFile(), { patchWindow, fsync: true })],
  // Each storage a prefix of its own in one redis-server, as deployments sharing a Redis would have.
  ['RedisStorage', (patchWindow) => new RedisStorage({ url: redis.url, prefix: `test${++files}:`, patchWindow })],
];

for (const [name, create] of implementations) {
  describe(`${name}: the storage contract`, () => {
    it('loads nothing for an unknown topic, then what was appended', async () => {
      const storage = create();
      assert.equal(await storage.load('t'), undefined);
      await storage.append('t', fresh('e', { todos: [] }));
      await storage.append('t', next('e', 1, { todos: ['milk'] }, JSON.stringify([{ op: 'add', path: '/todos/0', value: 'milk' }])));
      assert.deepEqual(await storage.load('t'), { epoch: 'e', version: 1, state: { todos: ['milk'] } });
      await storage.close();
    });

    it('refuses an update that does not follow the stored position, storing nothing', async () => {
      const storage = create();
      await storage.append('t', fresh('e', { n: 0 }));
      await assert.rejects(storage.append('t', next('e', 2, { n: 2 }, setN(2), 1)), StorageConflictError);
      await assert.rejects(storage.append('t', next('other', 1, { n: 1 }, setN(1), 0)), StorageConflictError);
      await assert.rejects(storage.append('t', fresh('f', { n: 9 })), StorageConflictError);
      await assert.rejects(storage.append('none', next('e', 1, { n: 1 })), /follows epoch e version 0 but the stored state is at nothing/);
      assert.deepEqual(await storage.load('t'), { epoch: 'e', version: 0, state: { n: 0 } });
      assert.equal(await storage.load('none'), undefined);
      await storage.close();
    });

    it('reads exactly the patches after a version, oldest first; none when current', async () => {
      const storage = create();
      await storage.append('t', fresh('e', { n: 0 }));
      await appendRun(storage, 't', 5);
      assert.deepEqual(await storage.patchesAfter('t', { epoch: 'e', version: 2 }), [
        { version: 3, patch: setN(3) },
        { version: 4, patch: setN(4) },
        { version: 5, patch: setN(5) },
      ]);
      assert.deepEqual(await storage.patchesAfter('t', { epoch: 'e', version: 5 }), []);
      assert.equal(await storage.patchesAfter('t', { epoch: 'stale', version: 2 }), undefined);
      assert.equal(await storage.patchesAfter('t', { epoch: 'e', version: 6 }), undefined);
      assert.equal(await storage.patchesAfter('unknown', { epoch: 'e', version: 0 }), undefined);
      await storage.close();
    });

    it('keeps a bounded window of patches: older versions cannot be proven', async () => {
      const storage = create(4);
      await storage.append('t', fresh('e', { n: 0 }));
      await appendRun(storage, 't', 21);
      assert.deepEqual(await storage.load('t'), { epoch: 'e', version: 21, state: { n: 21 } });
      assert.equal(await storage.patchesAfter('t', { epoch: 'e', version: 1 }), undefined);
      assert.deepEqual((await storage.patchesAfter('t', { epoch: 'e', version: 17 }))?.map((p) => p.version), [18, 19, 20, 21]);
      await storage.close();
    });

    it('follows versions across the wrap to 0, taking the newest run', async () => {
      const storage = create(8);
      await storage.append('t', fresh('e', { n: 0 }));
      const last = await appendRun(storage, 't', 7, 3); // 1 2 3 0 1 2 3
      assert.equal(last, 3);
      assert.deepEqual((await storage.patchesAfter('t', { epoch: 'e', version: 2 }))?.map((p) => p.version), [3]);
      assert.deepEqual((await storage.patchesAfter('t', { epoch: 'e', version: 3 }))?.map((p) => p.version), []);
      assert.deepEqual((await storage.patchesAfter('t', { epoch: 'e', version: 0 }))?.map((p) => p.version), [1, 2, 3]);
      await storage.close();
    });

    it('a new history replaces nothing but an empty topic; a dropped topic starts over', async () => {
      const storage = create();
      await storage.append('t', fresh('e', { n: 0 }));
      await appendRun(storage, 't', 3);
      await storage.drop('t');
      assert.equal(await storage.load('t'), undefined);
      await storage.append('t', fresh('f', { n: 0 }));
      assert.equal(await storage.patchesAfter('t', { epoch: 'e', version: 2 }), undefined);
      assert.deepEqual(await storage.patchesAfter('t', { epoch: 'f', version: 0 }), []);
      await storage.close();
    });

    it('commits concurrent appends to many topics, each checked on its own', async () => {
      const storage = create();
      const topics = Array.from({ length: 50 }, (_, i) => `t${i}`);
      await Promise.all(topics.map((topic) => storage.append(topic, fresh('e', { n: 0 }))));
      const results = await Promise.allSettled(
        topics.map((topic, i) => storage.append(topic, i % 2 ? next('e', 1, { n: 1 }) : next('e', 2, { n: 2 }, setN(2), 1))),
      );
      results.forEach((result, i) => assert.equal(result.status, i % 2 ? 'fulfilled' : 'rejected', topics[i]));
      for (const [i, topic] of topics.entries()) assert.equal((await storage.load(topic))?.version, i % 2 ? 1 : 0);
      await storage.close();
    });
  });
}

describe('MemoryStorage: a bounded number of topics', () => {
  it('forgets the topic released longest ago past maxTopics, never one the server holds', async () => {
    const storage = new MemoryStorage({ maxTopics: 2 });
    const stored = async (topic: string) => (await storage.load(topic)) !== undefined;
    for (const topic of ['a', 'b', 'c']) await storage.append(topic, fresh('e', { n: 0 }));
    assert.deepEqual([await stored('a'), await stored('b'), await stored('c')], [true, true, true], 'all three are held');
    storage.release('a');
    assert.equal(await stored('a'), false, 'released past the limit: forgotten');
    storage.release('b');
    storage.release('c');
    await storage.append('d', fresh('e', { n: 0 }));
    assert.equal(await stored('b'), false, 'b was released before c');
    // Loading c holds it again: only released topics are forgotten.
    assert.equal(await stored('c'), true);
    await storage.append('e', fresh('e', { n: 0 }));
    assert.deepEqual([await stored('c'), await stored('d'), await stored('e')], [true, true, true]);
    await storage.append('c', next('e', 1, { n: 1 }));
    await storage.close();
  });

  it('refuses a maxTopics that is not a positive integer', () => {
    assert.throws(() => new MemoryStorage({ maxTopics: 0 }), /invalid maxTopics: expected a positive integer, got number 0/);
  });
});

describe('SqliteStorage: the file', () => {
  it('keeps states and patch logs when reopened', async () => {
    const file = newFile();
    const first = new SqliteStorage(file);
    await first.append('t', fresh('e', { n: 0 }));
    await appendRun(first, 't', 3);
    await first.close();
    const second = new SqliteStorage(file, { fsync: true });
    assert.deepEqual(await second.load('t'), { epoch: 'e', version: 3, state: { n: 3 } });
    assert.deepEqual((await second.patchesAfter('t', { epoch: 'e', version: 1 }))?.map((p) => p.patch), [setN(2), setN(3)]);
    await second.append('t', next('e', 4, { n: 4 }));
    await second.close();
  });

  it('writes patches, not states: a reopened file replays them onto the last snapshot', async () => {
    // States with odd keys and every JSON type, changed at random; the patches are the server's diff.
    const file = newFile();
    const storage = new SqliteStorage(file, { patchWindow: 4 });
    let state: State = { todos: [], ['__proto__' as string]: { a: 1 }, 'a/b~c': null };
    await storage.append('t', fresh('e', state));
    let random = 7;
    const pick = (n: number) => (random = (random * 48271) % 2147483647) % n;
    for (let version = 1; version <= 23; version++) {
      const todos = [...(state.todos as JsonValue[])];
      if (todos.length > 0 && pick(3) === 0) todos.splice(pick(todos.length), 1);
      todos.splice(pick(todos.length + 1), 0, { id: version, text: `todo ${version}`, done: pick(2) === 0, tags: pick(2) ? ['x'] : [] });
      const following: State = JSON.parse(JSON.stringify({ ...state, todos, ['a/b~c']: pick(2) ? version : 'text', constructor: pick(2) ? { v: version } : 0 }));
      await storage.append('t', next('e', version, following, JSON.stringify(diff(state, following)), version - 1));
      state = following;
      if (version === 9 || version === 23) {
        const reopened = new SqliteStorage(file, { patchWindow: 4 });
        assert.deepEqual(await reopened.load('t'), { epoch: 'e', version, state }, `at version ${version}`);
        await reopened.close();
      }
    }
    await storage.close();
  });

  it('refuses writes once closed', async () => {
    const storage = new SqliteStorage(newFile());
    await storage.close();
    await assert.rejects(storage.append('t', fresh('e', {})), /the storage is closed/);
  });

  it('refuses a patch window that is not a positive integer', () => {
    assert.throws(() => new SqliteStorage(newFile(), { patchWindow: 0 }), /invalid patchWindow 0/);
    assert.throws(() => new MemoryStorage({ patchWindow: 1.5 }), /invalid patchWindow 1.5/);
  });
});
