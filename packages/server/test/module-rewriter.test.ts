import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import v8 from 'node:v8';
import { Worker } from 'node:worker_threads';
import { GuestPool, InvalidModuleError, Reply, rewriteModule, UninterruptibleModuleError, wasmHandler, type Payload, type State } from '@livestate/server';
import { quietLogger } from './support/clients.js';
import { guestPath } from './support/guests.js';
import { buildModule, END, EMPTY_BLOCK, FUNCREF, I32, I64, occurrences, TYPE, V128, type Bytes } from './support/module-builder.js';


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
const REF = 0x64;
const REF_NULL = 0x63;
const EXNREF = 0x69;
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

/** Each module defines `three` (function 0, returns 3) and, as function 1, `run` with the instructions under test; the second memory only in some. */
const OPCODE_CLASSES: { name: string; body: Bytes; loops?: number; locals?: Bytes[]; memories?: Bytes[] }[] = [
  {
    name: 'control flow, constants, calls, locals and globals',
    locals: [[1, I32], [2, I64], [1, V128], [1, REF_NULL, FUNCREF], [1, REF, TYPE.toI32]],
    loops: 1,
    body: [
      ...[0x02, I32, 0x41, 0x03, 0x41, 0x00, 0x0e, 0x01, 0x00, 0x00, END], // block, br_table
      ...[0x41, 0x01, 0x04, I32, 0x41, 0x07, 0x05, 0x41, 0x09, END, 0x6a], // if else
      ...[0x43, 0x00, 0x00, 0x40, 0x40, 0xa8, 0x6a], // f32.const 3
      ...[0x44, 0, 0, 0, 0, 0, 0, 0x08, 0x40, 0xaa, 0x6a], // f64.const 3
      ...[0x42, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x42, 0x3e, 0x88, 0xa7, 0x6a], // i64.const of 10 bytes
      ...[0x41, 0x05, 0x41, 0x06, 0x41, 0x00, 0x1b, 0x6a], // select
      ...[0x41, 0x01, 0x41, 0x02, 0x02, TYPE.twoI32ToI32, 0x6a, END, 0x6a], // block with a type index
      ...[0x10, 0x80, 0x80, 0x80, 0x80, 0x00, 0x6a], // call, with a padded index
      ...[0x41, 0x00, 0x11, TYPE.toI32, 0x00, 0x6a], // call_indirect
      ...[0x02, 0x40, 0x0c, 0x00, END, 0x02, 0x40, 0x41, 0x01, 0x0d, 0x00, END, 0x01, 0x41, 0x03, 0x1a], // br, br_if, nop, drop
      ...[0x23, 0x00, 0x6a, 0x41, 0x00, 0x24, 0x00, 0x22, 0x00, 0x20, 0x00, 0x6a], // globals, local.tee, local.get
      ...[0x03, I32, 0x41, 0x01, END, 0x6a], // a loop with a result
    ],
  },
  {
    name: 'memory instructions and a second memory',
    memories: [[0x00, 0x01], [0x00, 0x01]],
    body: [
      ...[0x41, 0x00, 0x41, 0x03, 0x36, 0x02, 0x00, 0x41, 0x00, 0x28, 0x02, 0x00], // i32.store, i32.load
      ...[0x41, 0x00, 0x2d, 0x00, 0x00, 0x6a], // i32.load8_u
      ...[0x41, 0x04, 0x42, 0x03, 0x37, 0x03, 0x83, 0x80, 0x80, 0x80, 0x00], // i64.store with a padded offset
      ...[0x41, 0x04, 0x29, 0x03, 0x03, 0xa7, 0x6a], // i64.load offset=3
      ...[0x41, 0x00, 0x41, 0x05, 0x36, 0x42, 0x01, 0x00, 0x41, 0x00, 0x28, 0x42, 0x01, 0x00, 0x6a], // memory 1
      ...[0x3f, 0x00, 0x6a, 0x3f, 0x01, 0x6a, 0x41, 0x00, 0x40, 0x01, 0x6a], // memory.size, memory.grow
    ],
  },
  {
    name: 'sign extension and saturating truncation',
    body: [
      ...[0x41, 0xff, 0x01, 0xc0], // i32.extend8_s
      ...[0x43, 0x00, 0x00, 0x80, 0x7f, 0xfc, 0x00, 0x6a], // i32.trunc_sat_f32_s(+inf)
      ...[0x43, 0x00, 0x00, 0x40, 0x40, 0xfc, 0x01, 0x6a], // i32.trunc_sat_f32_u(3)
      ...[0x44, 0, 0, 0, 0, 0, 0, 0xf8, 0x7f, 0xfc, 0x07, 0xa7, 0x6a], // i64.trunc_sat_f64_u(NaN)
      ...[0x42, 0x7f, 0xc4, 0xa7, 0x6a], // i64.extend32_s
    ],
  },
  {
    name: 'bulk memory and table instructions',
    body: [
      ...[0x41, 0x00, 0x41, 0x00, 0x41, 0x04, 0xfc, 0x08, 0x03, 0x00, 0xfc, 0x09, 0x03], // memory.init, data.drop
      ...[0x41, 0x08, 0x41, 0x00, 0x41, 0x04, 0xfc, 0x0a, 0x00, 0x00], // memory.copy
      ...[0x41, 0x0c, 0x41, 0x03, 0x41, 0x04, 0xfc, 0x0b, 0x00], // memory.fill
      ...[0x41, 0x08, 0x28, 0x02, 0x00, 0x41, 0x0c, 0x2d, 0x00, 0x00, 0x6a],
      ...[0x41, 0x01, 0x41, 0x00, 0x41, 0x01, 0xfc, 0x0c, 0x01, 0x00, 0xfc, 0x0d, 0x01], // table.init, elem.drop
      ...[0x41, 0x00, 0x41, 0x01, 0x41, 0x01, 0xfc, 0x0e, 0x00, 0x00], // table.copy
      ...[0xd0, FUNCREF, 0x41, 0x01, 0xfc, 0x0f, 0x00, 0x6a, 0xfc, 0x10, 0x00, 0x6a], // table.grow, table.size
      ...[0x41, 0x02, 0xd0, FUNCREF, 0x41, 0x01, 0xfc, 0x11, 0x00], // table.fill
      ...[0x41, 0x00, 0x11, TYPE.toI32, 0x00, 0x6a],
    ],
  },
  {
    name: 'reference types',
    body: [
      ...[0xd0, FUNCREF, 0xd1, 0xd2, 0x00, 0xd1, 0x6a], // ref.null, ref.is_null, ref.func
      ...[0x41, 0x01, 0xd2, 0x00, 0x26, 0x00, 0x41, 0x01, 0x25, 0x00, 0xd1, 0x6a], // table.set, table.get
      ...[0x41, 0x02, 0x41, 0x04, 0x41, 0x01, 0x1c, 0x01, I32, 0x6a], // select with a type
      ...[0xd0, FUNCREF, 0xd2, 0x00, 0x41, 0x00, 0x1c, 0x01, FUNCREF, 0xd1, 0x6a],
    ],
  },
  {
    name: 'SIMD and relaxed SIMD',
    body: [
      ...[0x41, 0x00, 0xfd, 0x0c, ...filled(3), 0xfd, 0x0b, 0x04, 0x00], // v128.const, v128.store
      ...[0x41, 0x00, 0xfd, 0x00, 0x04, 0x00, 0xfd, 0x0c, ...filled(0), 0xfd, 0x0d, ...filled(3)], // v128.load, i8x16.shuffle
      ...[0xfd, 0x15, 0x03], // i8x16.extract_lane_s
      ...[0x41, 0x00, 0xfd, 0x0c, ...filled(0), 0xfd, 0x54, 0x00, 0x00, 0x00, 0xfd, 0x1b, 0x00, 0x6a], // v128.load8_lane
      ...[0x41, 0x20, 0x41, 0x00, 0xfd, 0x5c, 0x02, 0x00, 0xfd, 0x5a, 0x02, 0x00, 0x00], // v128.load32_zero, v128.store32_lane
      ...[0x41, 0x20, 0x28, 0x02, 0x00, 0x6a],
      ...[0xfd, 0x0c, ...filled(3), 0xfd, 0x0c, ...filled(0), 0xfd, 0x80, 0x02], // i8x16.relaxed_swizzle (opcode 256)
      ...[0xfd, 0x0c, ...filled(1), 0xfd, 0xae, 0x01, 0xfd, 0x1b, 0x01, 0x6a], // i32x4.add, i32x4.extract_lane
      ...[0x41, 0x03, 0xfd, 0x0f, 0xfd, 0x16, 0x05, 0x6a, 0xfd, 0x0c, ...filled(0), 0xfd, 0x53, 0x6a], // splat, extract_lane_u, any_true
    ],
  },
  {
    name: 'threads',
    memories: [[0x03, 0x01, 0x01]],
    body: [
      ...[0x41, 0x00, 0x41, 0x03, 0xfe, 0x1e, 0x02, 0x00], // i32.atomic.rmw.add
      ...[0x41, 0x00, 0xfe, 0x10, 0x02, 0x00, 0x6a, 0xfe, 0x03, 0x00], // i32.atomic.load, atomic.fence
      ...[0x41, 0x00, 0x41, 0x01, 0xfe, 0x00, 0x02, 0x00, 0x6a], // memory.atomic.notify
      ...[0x41, 0x08, 0x42, 0x00, 0x42, 0x05, 0xfe, 0x49, 0x03, 0x00, 0xa7, 0x6a], // i64.atomic.rmw.cmpxchg
      ...[0x41, 0x08, 0xfe, 0x11, 0x03, 0x00, 0xa7, 0x6a], // i64.atomic.load
      ...[0x41, 0x00, 0x04, 0x40, 0x41, 0x00, 0x41, 0x00, 0x42, 0x00, 0xfe, 0x01, 0x02, 0x00, 0x1a, END], // memory.atomic.wait32, not run
    ],
  },
  {
    name: 'tail calls',
    body: [
      ...[0x41, 0x00, 0x04, 0x40, 0x41, 0x00, 0x13, TYPE.toI32, 0x00, END], // return_call_indirect, not run
      ...[0x12, 0x00], // return_call
    ],
  },
  {
    name: 'legacy exception handling',
    body: [
      ...[0x06, I32, 0x06, I32, 0x08, 0x00, 0x18, 0x00, 0x19, 0x41, 0x04, END], // try, throw, delegate, catch_all
      ...[0x06, I32, 0x06, I32, 0x08, 0x00, 0x19, 0x09, 0x00, END, 0x07, 0x00, 0x41, 0x05, END, 0x6a], // rethrow, catch
    ],
  },
  {
    name: 'exception handling with exnref',
    body: [
      ...[0x02, 0x40, 0x02, 0x40, 0x02, 0x40, 0x02, 0x40, 0x1f, 0x40, 0x01, 0x00, 0x00, 0x03, 0x08, 0x00, END, END, END, END, END], // try_table (catch 0 3)
      ...[0x02, 0x40, 0x1f, 0x40, 0x01, 0x02, 0x00, 0x08, 0x00, END, END], // (catch_all 0)
      ...[0x02, EXNREF, 0x1f, 0x40, 0x02, 0x01, 0x00, 0x00, 0x03, 0x00, 0x08, 0x00, END, 0x00, END, 0x1a], // catch_ref, catch_all_ref
      ...[0x41, 0x00, 0x04, 0x40, 0xd0, EXNREF, 0x0a, END], // throw_ref, not run
      ...[0x41, 0x06],
    ],
  },
  {
    name: 'typed function references',
    locals: [[1, REF_NULL, TYPE.toI32], [1, REF_NULL, TYPE.twoI32ToI32]],
    body: [
      ...[0xd2, 0x00, 0x21, 0x00, 0x20, 0x00, 0x14, TYPE.toI32], // call_ref
      ...[0x20, 0x00, 0xd4, 0x14, TYPE.toI32, 0x6a], // ref.as_non_null
      ...[0x02, 0x40, 0x20, 0x00, 0xd5, 0x00, 0x1a, END], // br_on_null
      ...[0x02, REF, TYPE.toI32, 0x20, 0x00, 0xd6, 0x00, 0xd2, 0x00, END, 0x14, TYPE.toI32, 0x6a], // br_on_non_null, block of a reference type
      ...[0x02, REF_NULL, TYPE.toI32, 0x20, 0x00, END, 0x14, TYPE.toI32, 0x6a],
      ...[0x20, 0x00, 0xd0, TYPE.toI32, 0x41, 0x01, 0x1c, 0x01, REF_NULL, TYPE.toI32, 0x14, TYPE.toI32, 0x6a], // select of a reference type
      // Heap type 3 is also the opcode of loop: a decoder that missed one would find a loop that is not there.
      ...[0xd0, TYPE.twoI32ToI32, 0xd0, TYPE.twoI32ToI32, 0x41, 0x01, 0x1c, 0x01, REF_NULL, TYPE.twoI32ToI32, 0xd1, 0x6a],
      ...[0x02, REF_NULL, TYPE.twoI32ToI32, 0x20, 0x01, END, 0xd1, 0x6a],
      ...[0x41, 0x00, 0x04, 0x40, 0xd2, 0x00, 0x15, TYPE.toI32, END], // return_call_ref, not run
    ],
  },
];

function filled(byte: number): Bytes {
  return new Array(16).fill(byte);
}

/** A module for one class of instructions: `run` does them, then a loop, and returns an i32. */
const opcodeModule = ({ body, locals, memories }: (typeof OPCODE_CLASSES)[number]) =>
  buildModule({
    tables: [[FUNCREF, 0x00, 0x02]],
    memories: memories ?? [[0x00, 0x01]],
    tags: 1,
    globals: [[I32, 0x01, 0x41, 0x03, END]],
    functions: [
      { type: TYPE.toI32, body: [0x41, 0x03] },
      { type: TYPE.toI32, locals, body: [...body, 0x03, EMPTY_BLOCK, END], export: 'run' },
    ],
    elements: [[0x00, 0x41, 0x00, END, 0x01, 0x00], [0x01, 0x00, 0x01, 0x00]],
    data: [[], [], [], [1, 2, 3, 4]],
  });

/** The check the rewriter inserts, reading the interrupt memory at `index`. */
const interruptCheck = (index: number) => [0x41, 0x00, 0xfe, 0x10, 0x42, index, 0x00, 0x04, 0x40, 0x00, END];

const interruptFlag = (instance: WebAssembly.Instance) => new Int32Array((instance.exports.livestate_interrupt as WebAssembly.Memory).buffer);

describe('module rewriter: interrupt checks', () => {
  for (const opcodes of OPCODE_CLASSES) {
    it(`decodes ${opcodes.name}, checks each function and loop, and runs the same`, async () => {
      const original = opcodeModule(opcodes);
      assert.ok(WebAssembly.validate(original), 'the hand-assembled module is valid');
      const rewritten = rewriteModule(original, { maxPages: 4, interruptible: true });
      assert.ok(WebAssembly.validate(rewritten));
      const flagMemory = opcodes.memories?.length ?? 1;
      const loops = (opcodes.loops ?? 0) + 1;
      assert.equal(occurrences(rewritten, interruptCheck(flagMemory)), 2 + loops, 'one check per function and per loop');
      const run = async (bytes: Uint8Array) => (await WebAssembly.instantiate(bytes)).instance;
      const [plain, checked] = [await run(original), await run(rewritten)];
      assert.equal((checked.exports.run as () => number)(), (plain.exports.run as () => number)());
      interruptFlag(checked)[0] = 1;
      assert.throws(() => (checked.exports.run as () => number)(), /unreachable/);
    });
  }
});

/**
 * Imports `host.started`, which each export calls before it runs; `spin(n)` loops n times,
 * `doubling(n)` makes 2^n calls without a loop, `chase(n)` makes n tail calls. Given -1
 * (or 40 for `doubling`) each runs for seconds.
 */
const RUNAWAY = buildModule({
  imports: [{ module: 'host', name: 'started', type: TYPE.none }],
  memories: [[0x00, 0x01]],
  functions: [
    {
      type: TYPE.i32ToI32,
      locals: [[1, I32]],
      export: 'spin',
      body: [
        ...[0x10, 0x00, 0x03, EMPTY_BLOCK],
        ...[0x20, 0x00, 0x45, 0x04, EMPTY_BLOCK, 0x20, 0x01, 0x0f, END], // n == 0: return the count
        ...[0x20, 0x00, 0x41, 0x01, 0x6b, 0x21, 0x00, 0x20, 0x01, 0x41, 0x01, 0x6a, 0x21, 0x01, 0x0c, 0x00, END],
        0x00,
      ],
    },
    {
      type: TYPE.i32ToI32,
      body: [0x20, 0x00, 0x45, 0x04, I32, 0x41, 0x01, 0x05, ...[0x20, 0x00, 0x41, 0x01, 0x6b, 0x10, 0x02], ...[0x20, 0x00, 0x41, 0x01, 0x6b, 0x10, 0x02, 0x6a], END],
    },
    { type: TYPE.i32ToI32, export: 'doubling', body: [0x10, 0x00, 0x20, 0x00, 0x10, 0x02] },
    { type: TYPE.i32ToI32, body: [0x20, 0x00, 0x45, 0x04, EMPTY_BLOCK, 0x41, 0x00, 0x0f, END, 0x20, 0x00, 0x41, 0x01, 0x6b, 0x12, 0x04] },
    { type: TYPE.i32ToI32, export: 'chase', body: [0x10, 0x00, 0x20, 0x00, 0x12, 0x04] },
  ],
});

/** A thread that sets the interrupt flag as soon as the guest signals that it has started. */
async function watchdog(started: Int32Array, flag: Int32Array): Promise<Worker> {
  const worker = new Worker(
    `const { workerData: { started, flag } } = require('node:worker_threads');
     Atomics.wait(started, 0, 0);
     Atomics.store(flag, 0, 1);`,
    { eval: true, workerData: { started, flag } },
  );
  await once(worker, 'online');
  return worker;
}

describe('module rewriter: interrupting a guest from another thread', () => {
  const runaways = [
    { name: 'a loop', run: 'spin', normal: [1000, 1000], endless: -1 },
    { name: 'recursion without loops', run: 'doubling', normal: [10, 1024], endless: 40 },
    { name: 'tail calls without loops', run: 'chase', normal: [1000, 0], endless: -1 },
  ] as const;
  // The optimizing compiler is where a check could be hoisted out of a loop and never see the flag change.
  for (const compiler of ['baseline', 'optimizing'] as const) {
    for (const { name, run, normal, endless } of runaways) {
      it(`stops ${name} soon after a Worker sets the flag, and runs it normally while the flag is 0 (${compiler} compiler)`, async () => {
        if (compiler === 'optimizing') v8.setFlagsFromString('--no-liftoff');
        try {
          const started = new Int32Array(new SharedArrayBuffer(4));
          const imports = { host: { started: () => (Atomics.store(started, 0, 1), Atomics.notify(started, 0)) } };
          const { instance } = await WebAssembly.instantiate(rewriteModule(RUNAWAY, { maxPages: 4, interruptible: true }), imports);
          const guest = instance.exports[run] as (n: number) => number;
          const flag = interruptFlag(instance);
          const [input, output] = normal;
          assert.equal(guest(input), output);
          started[0] = 0;
          const worker = await watchdog(started, flag);
          assert.throws(() => guest(endless), /unreachable/);
          await once(worker, 'exit');
          flag[0] = 0;
          assert.equal(guest(input), output, 'the instance runs on once the flag is cleared');
        } finally {
          v8.setFlagsFromString('--liftoff');
        }
      });
    }
  }
});

describe('module rewriter: interruptible modules', () => {
  it('refuses code with an opcode it cannot decode, naming the opcode and the function', () => {
    const gc = buildModule({ functions: [{ type: TYPE.none, body: [] }, { type: TYPE.none, body: [0x41, 0x05, 0xfb, 0x1c, 0x1a] }] });
    assert.ok(WebAssembly.validate(gc), 'ref.i31 is valid');
    assert.throws(() => rewriteModule(gc, { maxPages: 4, interruptible: true }), UninterruptibleModuleError);
    assert.throws(() => rewriteModule(gc, { maxPages: 4, interruptible: true }), /function 1 uses opcode 0xfb 28/);
    assert.throws(() => rewriteModule(gc, { maxPages: 4, interruptible: true }), InvalidModuleError, 'the server treats it as an invalid module');
    assert.doesNotThrow(() => rewriteModule(gc, { maxPages: 4 }));
    const imported = buildModule({
      imports: [{ module: 'host', name: 'f', type: TYPE.none }],
      functions: [{ type: TYPE.none, body: [0xfd, 0x9a, 0x01] }],
    });
    assert.throws(() => rewriteModule(imported, { maxPages: 4, interruptible: true }), /function 1 uses opcode 0xfd 154/, 'imported functions count');
    const unknown: [Bytes, RegExp][] = [
      [[0x1d], /opcode 0x1d,/],
      [[0x41, 0x00, 0xd3], /opcode 0xd3,/], // ref.eq
      [[0xfc, 0x13], /opcode 0xfc 19,/],
      [[0xfe, 0x04], /opcode 0xfe 4,/],
      [[0xfd, 0x94, 0x02], /opcode 0xfd 276,/],
      [[0x1f, 0x40, 0x01, 0x04, 0x00, END], /opcode 0x1f with catch kind 4/],
    ];
    for (const [body, message] of unknown) {
      const bytes = buildModule({ functions: [{ type: TYPE.none, body }] });
      assert.throws(() => rewriteModule(bytes, { maxPages: 4, interruptible: true }), message);
      assert.throws(() => rewriteModule(bytes, { maxPages: 4, interruptible: true }), UninterruptibleModuleError);
    }
  });

  it('refuses a function whose last instruction runs past the end of its body', () => {
    const bytes = buildModule({ functions: [{ type: TYPE.none, body: [0x44] }, { type: TYPE.none, body: [0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01] }] });
    assert.throws(() => rewriteModule(bytes, { maxPages: 4, interruptible: true }), /function 0 runs past the end of its body/);
  });

  it('refuses code that uses the memory index the interrupt memory will have, which could clear the flag', () => {
    const clearsFlag = buildModule({ memories: [[0x00, 0x01]], functions: [{ type: TYPE.none, body: [0x41, 0x00, 0x41, 0x00, 0x36, 0x42, 0x01, 0x00] }] });
    assert.throws(() => rewriteModule(clearsFlag, { maxPages: 4, interruptible: true }), /function 0 uses memory 1, which the module does not have/);
  });

  it('gives a module that imports its memory and exports nothing a memory and an export section', async () => {
    const bytes = buildModule({
      importedMemory: { module: 'env', name: 'memory', limits: [0x00, 0x01] },
      functions: [{ type: TYPE.toI32, body: [0x41, 0x00, 0x28, 0x02, 0x00] }],
    });
    const rewritten = rewriteModule(bytes, { maxPages: 4, interruptible: true });
    assert.equal(occurrences(rewritten, interruptCheck(1)), 1);
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 4 });
    const { instance } = await WebAssembly.instantiate(rewritten, { env: { memory } });
    assert.deepEqual(Object.keys(instance.exports), ['livestate_interrupt']);
    assert.ok(interruptFlag(instance).buffer instanceof SharedArrayBuffer);
  });

  it('works with the other options: the cap and minPages leave the interrupt memory at one page, globals are exported too', async () => {
    const bytes = moduleWithGlobals([I32, MUTABLE, 0x41, 0x2a, 0x0b]);
    const rewritten = rewriteModule(bytes, { maxPages: 8, minPages: 3, exposeMutableGlobals: true, interruptible: true });
    const { instance } = await WebAssembly.instantiate(rewritten);
    assert.deepEqual(Object.keys(instance.exports), ['memory', 'livestate_global_0', 'livestate_interrupt']);
    assert.equal((instance.exports.memory as WebAssembly.Memory).buffer.byteLength, 3 * 65536);
    const flagMemory = instance.exports.livestate_interrupt as WebAssembly.Memory;
    assert.equal(flagMemory.buffer.byteLength, 65536);
    assert.throws(() => flagMemory.grow(1), RangeError);
    assert.equal(await reachablePages(rewritten), 8);
    const renamed = buildModule({ imports: [{ module: 'wasi_snapshot_preview1', name: 'sched_yield', type: TYPE.none }], functions: [] });
    const imports = WebAssembly.Module.imports(new WebAssembly.Module(rewriteModule(renamed, { maxPages: 4, renameImports: { wasi_snapshot_preview1: 'livestate:wasi' }, interruptible: true })));
    assert.deepEqual(imports.map((entry) => entry.module), ['livestate:wasi']);
  });

  it('refuses a module that already exports the name of the interrupt memory', () => {
    const bytes = buildModule({ functions: [{ type: TYPE.none, body: [], export: 'livestate_interrupt' }] });
    assert.throws(() => rewriteModule(bytes, { maxPages: 4, interruptible: true }), UninterruptibleModuleError);
  });
});

describe('module rewriter: interrupt checks in the guest fixtures', () => {
  const guests = join(guestPath('todo'), '..');

  it('instruments every fixture module, the 12 MB JavaScript engine of the component included, into valid modules', async () => {
    const modules = (await readdir(guests)).filter((file) => file.endsWith('.wasm') && !file.endsWith('.component.wasm'));
    assert.ok(modules.length >= 10 && modules.includes('todo.component.core.wasm'), `the fixtures are built: ${modules}`);
    for (const file of modules) {
      const rewritten = rewriteModule(await readFile(join(guests, file)), { maxPages: 1024, interruptible: true });
      const exports = WebAssembly.Module.exports(await WebAssembly.compile(rewritten));
      assert.ok(exports.some((entry) => entry.name === 'livestate_interrupt' && entry.kind === 'memory'), file);
    }
  });

  it('runs the todo handlers the same, instrumented, through wasmHandler', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'livestate-interruptible-'));
    const pool = new GuestPool(1);
    const socket = { id: '1', params: {}, assigns: {} };
    const session = async (path: string, events: readonly (readonly [string, Payload])[]) => {
      const handler = await wasmHandler(path, { pool, watch: false, logger: quietLogger });
      let state: State = await handler.init('todo:1', { owner: 'ann' });
      const results: unknown[] = [state];
      for (const [name, payload] of events) {
        try {
          const result = await handler.handleEvent(name, payload, state, { topic: 'todo:1', socket });
          state = result instanceof Reply ? result.state : result;
          results.push(result);
        } catch (error) {
          results.push({ error: (error as Error).message });
        }
      }
      handler.close();
      return results;
    };
    const todoEvents = [['addTodo', { todo: 'milk' }], ['addTodo', { todo: 'bread' }], ['toggleTodo', { id: 1 }], ['removeTodo', { id: 2 }], ['addTodo', { todo: ' ' }]] as const;
    try {
      for (const [guest, events] of [['todo', todoEvents], ['todo-portable', todoEvents], ['original', [['add_todo', { todo: 'milk' }]]]] as const) {
        const path = join(dir, `${guest}.wasm`);
        await writeFile(path, rewriteModule(await readFile(guestPath(guest)), { maxPages: 1024, interruptible: true }));
        const results = await session(guestPath(guest), events);
        assert.ok(results.every((result) => !(result as { error?: string }).error?.includes('internal')), `${guest} ran: ${JSON.stringify(results)}`);
        assert.deepEqual(await session(path, events), results, guest);
      }
    } finally {
      await pool.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
