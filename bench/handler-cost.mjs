// Microseconds per event for the todo handler in JavaScript and in WebAssembly in the classic
// `[payload, state]` convention (the standard Extism kernel calls and the bulk-copy fast path,
// both AssemblyScript, and the JavaScript twin compiled to a component), at several state sizes.
// Resident state is measured end to end by load.mjs (state-size, private-topics): calling a
// handler here, with no server to apply its patches, would measure half of it.
// Each figure is the median over interleaved rounds; ratios are to JavaScript in the
// same round.
import { fileURLToPath } from 'node:url';
import { GuestPool, wasmHandler } from '@livestate/server';
import { todoHandler as jsTodo } from './handlers/todo.mjs';
import { median, quick, report, runIdentity } from './measure.mjs';

const guest = (name) => fileURLToPath(new URL(`./build/${name}.wasm`, import.meta.url));

/**
 * What a sandboxed handler must do, in plain JavaScript: take `[payload, state]` as JSON
 * text and return the new state as JSON text. The WebAssembly figures are compared
 * with this (the same work, outside a sandbox) as well as with the handler above.
 */
const jsonTodo = {
  init: jsTodo.init,
  handleEvent(name, payload, state, context) {
    const [parsedPayload, parsedState] = JSON.parse(JSON.stringify([payload, state]));
    const result = jsTodo.handleEvent(name, parsedPayload, parsedState, context);
    return JSON.parse(JSON.stringify({ state: result.state, events: result.events }));
  },
};

const sizes = [10, 1_000, 10_000];
const rounds = quick ? 3 : 7;
const budgetMs = quick ? 60 : 250;

const stateOf = (count) =>
  Object.freeze({
    todos: Object.freeze(Array.from({ length: count }, (_, id) => Object.freeze({ id, text: `todo number ${id}`, done: id % 3 === 0 }))),
    nextId: count,
    limit: 0,
  });

const pool = new GuestPool(1);
const variants = {
  javascript: jsTodo,
  'javascript + JSON': jsonTodo,
  'wasm standard': await wasmHandler(guest('todo-portable'), { pool, watch: false, timeoutMs: 10_000 }),
  'wasm fast path': await wasmHandler(guest('todo-classic'), { pool, watch: false, timeoutMs: 10_000 }),
  // SpiderMonkey's heap grows with the state (about 70 MiB at 1,000 todos, past 128 at 10,000) before
  // its collector keeps it level: the same 1 GiB the AssemblyScript module declares, recycled at half.
  component: await wasmHandler(guest('todo.component'), { pool, watch: false, timeoutMs: 10_000, maxMemoryMiB: 1024 }),
};

/** Runs events for about `budgetMs` and returns the median microseconds per event of small batches. */
async function measure(handler, state) {
  const payload = { todo: 'benchmark' };
  const context = { topic: 'bench', socket: { id: '0', params: {}, assigns: {} } };
  for (let i = 0; i < 3; i++) await handler.handleEvent('addTodo', payload, state, context);
  const samples = [];
  const end = performance.now() + budgetMs;
  while (performance.now() < end || samples.length < 5) {
    const start = performance.now();
    await handler.handleEvent('addTodo', payload, state, context);
    samples.push((performance.now() - start) * 1000);
  }
  return median(samples);
}

const results = {};
for (let round = 0; round < rounds; round++) {
  for (const size of sizes) {
    const state = stateOf(size);
    for (const [name, handler] of Object.entries(variants)) {
      ((results[size] ??= {})[name] ??= []).push(await measure(handler, state));
    }
  }
  process.stderr.write(`round ${round + 1}/${rounds}\n`);
}
await pool.close();

const rows = sizes.map((size) => {
  const row = { todos: size };
  for (const name of Object.keys(variants)) row[name] = median(results[size][name]);
  for (const name of Object.keys(variants)) {
    row[`${name} ratio`] = median(results[size][name].map((value, i) => value / results[size].javascript[i]));
    row[`${name} ratio to JSON`] = median(results[size][name].map((value, i) => value / results[size]['javascript + JSON'][i]));
  }
  row['component ratio to fast path'] = median(results[size].component.map((value, i) => value / results[size]['wasm fast path'][i]));
  return row;
});
const fmt = (value) => (value >= 100 ? value.toFixed(0) : value.toFixed(1));
const atThousand = rows.find((row) => row.todos === 1_000);
const markdown = [
  '| todos | JavaScript µs | JavaScript + JSON µs | WASM standard µs (× JS + JSON) | WASM fast path µs (× JS + JSON) | fast path × JavaScript | component (JS) µs (× fast path) |',
  '|---:|---:|---:|---:|---:|---:|---:|',
  ...rows.map(
    (row) =>
      `| ${row.todos.toLocaleString('en')} | ${fmt(row.javascript)} | ${fmt(row['javascript + JSON'])} | ${fmt(row['wasm standard'])} (${row['wasm standard ratio to JSON'].toFixed(2)}×) | ${fmt(row['wasm fast path'])} (${row['wasm fast path ratio to JSON'].toFixed(2)}×) | ${row['wasm fast path ratio'].toFixed(0)}× | ${fmt(row.component)} (${row['component ratio to fast path'].toFixed(2)}×) |`,
  ),
  '',
  `- component at 1,000 todos: ${atThousand['component ratio to fast path'].toFixed(2)}× the AssemblyScript fast path (goal ≤ 1.5×)`,
].join('\n');
await report('handler-cost', runIdentity(), rows, `### Handler cost per event (median of ${rounds} rounds)\n\n${markdown}`);
