import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidModuleError, rewriteModule } from '@livestate/server';


/** The smallest module with one memory (`limits` bytes) exported as "memory". */
const moduleWithMemory = (...limits: number[]) =>
  Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    0x05, limits.length + 1, 0x01, ...limits,
    0x07, 0x0a, 0x01, 0x06, ...new TextEncoder().encode('memory'), 0x02, 0x00,
  ]);

/** A module with one memory and these global entries (type, mutability, initializer), exporting the memory. */
const moduleWithGlobals = (...globals: number[][]) => {
  const entries = globals.flat();
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    0x05, 0x03, 0x01, 0x00, 0x01,
    0x06, entries.length + 1, globals.length, ...entries,
    0x07, 0x0a, 0x01, 0x06, ...new TextEncoder().encode('memory'), 0x02, 0x00,
  ]);
};
const I32 = 0x7f;
const V128 = 0x7b;
const MUTABLE = 1;
const CONSTANT = 0;

/** How many pages the module's memory can grow to. */
async function reachablePages(bytes: Uint8Array): Promise<number> {
  const { instance } = await WebAssembly.instantiate(bytes);
  const memory = instance.exports.memory as WebAssembly.Memory;
  try {
    while (memory.buffer.byteLength < 100 * 65536) memory.grow(1);
  } catch {
    // RangeError: the maximum is reached
  }
  return memory.buffer.byteLength / 65536;
}

describe('module rewriter', () => {
  it('gives a memory with no maximum the cap', async () => {
    const bytes = moduleWithMemory(0x00, 0x01);
    assert.equal(await reachablePages(bytes), 100, 'uncapped, it grows on');
    assert.equal(await reachablePages(rewriteModule(bytes, { maxPages: 3 })), 3);
  });

  it('lowers a larger maximum to the cap and keeps a smaller one', async () => {
    assert.equal(await reachablePages(rewriteModule(moduleWithMemory(0x01, 0x01, 0x50), { maxPages: 4 })), 4);
    assert.equal(await reachablePages(rewriteModule(moduleWithMemory(0x01, 0x01, 0x02), { maxPages: 4 })), 2);
  });

  it('refuses a memory whose minimum is above the cap, and bytes that are not a module', () => {
    assert.throws(() => rewriteModule(moduleWithMemory(0x00, 0x05), { maxPages: 4 }), InvalidModuleError);
    assert.throws(() => rewriteModule(moduleWithMemory(0x00, 0x05), { maxPages: 4 }), /starts at 5 pages/);
    assert.throws(() => rewriteModule(new TextEncoder().encode('not wasm'), { maxPages: 4 }), /not a WebAssembly module/);
    assert.throws(() => rewriteModule(moduleWithMemory(0x00, 0x01).subarray(0, 12), { maxPages: 4 }), /unexpected end/);
  });

  it('exports each mutable global when asked, so that the host can save and restore it', async () => {
    const bytes = moduleWithGlobals([I32, MUTABLE, 0x41, 0x2a, 0x0b], [I32, CONSTANT, 0x41, 0x07, 0x0b], [I32, MUTABLE, 0x41, 0x01, 0x0b]);
    const plain = await WebAssembly.instantiate(rewriteModule(bytes, { maxPages: 4 }));
    assert.deepEqual(Object.keys(plain.instance.exports), ['memory']);
    const { instance } = await WebAssembly.instantiate(rewriteModule(bytes, { maxPages: 4, exposeMutableGlobals: true }));
    assert.deepEqual(Object.keys(instance.exports), ['memory', 'livestate_global_0', 'livestate_global_2']);
    const first = instance.exports.livestate_global_0 as WebAssembly.Global;
    assert.equal(first.value, 42);
    first.value = 5;
    assert.equal(first.value, 5);
  });

  it('refuses to expose a mutable global that JavaScript cannot save', () => {
    const v128 = [V128, MUTABLE, 0xfd, 0x0c, ...new Array(16).fill(0), 0x0b];
    assert.throws(() => rewriteModule(moduleWithGlobals(v128), { maxPages: 4, exposeMutableGlobals: true }), InvalidModuleError);
    assert.doesNotThrow(() => rewriteModule(moduleWithGlobals(v128), { maxPages: 4 }));
  });

  it('raises the initial size of a memory to minPages, never above its maximum', async () => {
    const initialPages = async (bytes: Uint8Array) =>
      ((await WebAssembly.instantiate(bytes)).instance.exports.memory as WebAssembly.Memory).buffer.byteLength / 65536;
    assert.equal(await initialPages(rewriteModule(moduleWithMemory(0x01, 0x01, 0x08), { maxPages: 16, minPages: 5 })), 5);
    assert.equal(await initialPages(rewriteModule(moduleWithMemory(0x01, 0x01, 0x08), { maxPages: 16, minPages: 12 })), 8);
    assert.equal(await initialPages(rewriteModule(moduleWithMemory(0x01, 0x03, 0x08), { maxPages: 16, minPages: 2 })), 3);
  });
});
