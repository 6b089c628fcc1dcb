import { readFileSync } from 'node:fs';
import createPlugin from '@extism/extism';
import { rewriteModule } from '@livestate/server';
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[s.length >> 1]; };
const stateOf = (count) => ({ owner: 'x', todos: Array.from({ length: count }, (_, id) => ({ id, text: `todo number ${id}`, done: id % 3 === 0 })), nextId: count });
const bytes = readFileSync('build/guests/todo-portable.wasm');
const toPlainLoads = (b) => { b = Uint8Array.from(b); for (let i = 0; i < b.length - 6; i++) if (b[i] === 0x41 && b[i+1] === 0 && b[i+2] === 0xfe && b[i+3] === 0x10 && b[i+4] === 0x42 && b[i+5] === 1 && b[i+6] === 0) b.set([0x28, 0x42, 1, 0x80, 0], i + 2); return b; };

const all = rewriteModule(bytes, { maxPages: 1024, interruptible: true });


const variants = { none: bytes, atomic: all, 'plain load': toPlainLoads(all) };
const plugins = {};
for (const [k, b] of Object.entries(variants)) plugins[k] = await createPlugin({ wasm: [{ module: await WebAssembly.compile(b) }] }, { useWasi: false, runInWorker: false });
const time = async (fn, budgetMs) => { for (let i = 0; i < 20; i++) await fn(); const samples = []; const end = performance.now() + budgetMs; while (performance.now() < end || samples.length < 20) { const t = performance.now(); await fn(); samples.push((performance.now() - t) * 1000); } return median(samples); };
const results = {};
for (let round = 0; round < 9; round++) for (const size of [10, 1000]) {
  const input = JSON.stringify([{ todo: 'benchmark' }, stateOf(size)]);
  for (const k of Object.keys(variants)) ((results[size] ??= {})[k] ??= []).push(await time(async () => { await plugins[k].call('addTodo', input); await plugins[k].reset(); }, 150));
}
for (const [size, ks] of Object.entries(results)) console.log(size, Object.entries(ks).map(([k, v]) => `${k}: ${median(v).toFixed(1)}`).join(' | '));
