// @livestate/server for the benchmarks: topics `bench:*` with a shared state per topic,
// handled by the todo handler in JavaScript (--handler js) or WebAssembly (--handler wasm).
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { LiveStateServer, wasmHandler } from '@livestate/server';
import { todoHandler } from '../handlers/todo.mjs';
import { announce, controlRequests } from './control.mjs';

const { values } = parseArgs({ options: { handler: { type: 'string', default: 'js' } } });
const handler =
  values.handler === 'js'
    ? todoHandler
    : await wasmHandler(fileURLToPath(new URL(`../build/${values.handler === 'wasm' ? 'todo' : 'todo-portable'}.wasm`, import.meta.url)), {
        watch: false,
        timeoutMs: 10_000,
        maxMemoryMiB: 1024,
        recycleMemoryMiB: 1024,
      });
const http = createServer(controlRequests);
new LiveStateServer({
  routes: [{ topic: 'bench:*', handler, scope: 'topic' }],
  maxFrameBytes: 64 * 1024 * 1024,
  logger: { info() {}, warn: console.error, error: console.error },
}).attach(http);
http.listen(0, '127.0.0.1', () => announce(http));
