// @livestate/server for the benchmarks: topics `bench:*` with a shared state per topic,
// handled by the todo handler in JavaScript (--handler js) or WebAssembly: --handler wasm (resident
// state), --handler wasm-classic (the original `[payload, state]` convention).
// --faults: the server as users run it for the `faults` workload: default frame limit and
// time limit, plus topics `runaway:*` whose WebAssembly event never returns.
// --redis <url>: one node of a cluster on that Redis (the `cluster` workload).
// --storage memory|sqlite (default memory), --fsync: where states are kept, for the
// `durability` workload; the SQLite file is livestate-bench-<pid>.db in the temp folder.
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { LiveStateServer, MemoryStorage, SqliteStorage, wasmHandler } from '@livestate/server';
import { todoHandler } from '../handlers/todo.mjs';
import { announce, controlRequests } from './control.mjs';

const { values } = parseArgs({
  options: {
    handler: { type: 'string', default: 'js' },
    faults: { type: 'boolean', default: false },
    redis: { type: 'string' },
    storage: { type: 'string', default: 'memory' },
    fsync: { type: 'boolean', default: false },
  },
});
const module = (name) => fileURLToPath(new URL(`../build/${name}.wasm`, import.meta.url));
const handler =
  values.handler === 'js'
    ? todoHandler
    : await wasmHandler(module({ wasm: 'todo', 'wasm-classic': 'todo-classic' }[values.handler] ?? 'todo-portable'), {
        watch: false,
        timeoutMs: 10_000,
        maxMemoryMiB: 1024,
        recycleMemoryMiB: 1024,
      });
const routes = [{ topic: 'bench:*', handler, scope: 'topic' }];
if (values.faults) routes.push({ topic: 'runaway:*', handler: await wasmHandler(module('runaway'), { watch: false }), scope: 'topic' });
const http = createServer(controlRequests);
const server = new LiveStateServer({
  routes,
  storage: values.storage === 'sqlite' ? new SqliteStorage(join(tmpdir(), `livestate-bench-${process.pid}.db`), { fsync: values.fsync }) : new MemoryStorage(),
  maxFrameBytes: values.faults ? undefined : 64 * 1024 * 1024,
  // The state-size workload holds up to 100,000 todos (about 5 MB of JSON).
  maxStateBytes: 64 * 1024 * 1024,
  // Under attack, warnings and errors (failed events, dropped sockets) are what the attackers
  // asked for; a fault that reaches a well-behaved client stops the workload instead.
  logger: values.faults ? { info() {}, warn() {}, error() {} } : { info() {}, warn: console.error, error: console.error },
  ...(values.redis ? { cluster: { redis: values.redis } } : {}),
}).attach(http);
await server.ready();
http.listen(0, '127.0.0.1', () => announce(http));
