import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { build } from 'esbuild';
import { WebSocket } from 'ws';
import type { LiveStateServer } from '@livestate/server';
import { startServer } from './support/clients.js';
import { todoHandler } from './support/todo-handler.js';

/**
 * The published phx-live-state client, unmodified. Its package is ESM source without
 * "type": "module" and with directory imports, so Node cannot load it as is: esbuild
 * bundles it for Node, as a bundler would for a browser.
 */
async function loadPhxLiveState(): Promise<any> {
  const entry = createRequire(import.meta.url).resolve('phx-live-state');
  const { outputFiles } = await build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', write: false, logLevel: 'silent' });
  const file = join(await mkdtemp(join(tmpdir(), 'phx-live-state-')), 'bundle.mjs');
  await writeFile(file, outputFiles[0]!.text);
  return import(pathToFileURL(file).href);
}

describe('the unmodified phx-live-state client', () => {
  let server: LiveStateServer;
  let LiveState: any;

  before(async () => {
    server = await startServer({ routes: [{ topic: 'todo:*', handler: todoHandler, scope: 'topic' }] });
    ({ LiveState } = await loadPhxLiveState());
  });
  after(() => server.close());

  it('connects, receives the state, sends an event, receives the reply event and applies the patch', async () => {
    const liveState = new LiveState({ url: server.url, topic: 'todo:compat', socketOptions: { transport: WebSocket } });
    const states: any[] = [];
    const changed = (count: number) =>
      new Promise<void>((resolve) => {
        const check = () => states.length >= count && resolve();
        liveState.addEventListener('livestate-change', ({ detail }: CustomEvent) => {
          states.push(detail);
          check();
        });
        check();
      });
    const added = new Promise<any>((resolve) => liveState.addEventListener('todo-added', ({ detail }: CustomEvent) => resolve(detail)));
    liveState.connect();
    await changed(1);
    assert.deepEqual(states[0], { state: { todos: [], nextId: 1 }, version: 0 });

    liveState.pushEvent('addTodo', { todo: 'from phx-live-state' });
    await changed(2);
    assert.deepEqual(await added, { id: 1 });
    assert.deepEqual(states[1], {
      state: { todos: [{ id: 1, text: 'from phx-live-state', done: false }], nextId: 2 },
      version: 1,
    });
    assert.deepEqual(liveState.state, states[1].state);
    liveState.disconnect();
  });
});
