/**
 * Rewrites the parts of a WebAssembly binary that the host must control before
 * it compiles a module:
 * - memory limits: every memory the module defines or imports gets a maximum no
 *   larger than the cap, including memories that declare none, so a guest can
 *   never grow past it whatever it was built with;
 * - import module names: WASI imports are renamed so that they resolve to the
 *   host's own sandboxed WASI rather than the SDK's;
 * - optionally, every mutable global the module defines is exported, so that the
 *   host can save and restore an instance's globals with its memory;
 * - optionally, the code checks an interrupt flag at every function entry and loop
 *   header (see interrupt-checks.ts), so that another thread can stop it.
 * Only the import (2), memory (5), export (7) and, for interrupt checks, code (10) sections
 * are rebuilt; every other byte is copied.
 */
import { instrumentCode, UninterruptibleModuleError } from './interrupt-checks.js';
import { InvalidModuleError, Reader, Writer } from './wasm-binary.js';

export { InvalidModuleError } from './wasm-binary.js';
export { UninterruptibleModuleError } from './interrupt-checks.js';

const MAGIC_AND_VERSION = 8;
const SECTION_CUSTOM = 0;
const SECTION_IMPORT = 2;
const SECTION_MEMORY = 5;
const SECTION_GLOBAL = 6;
const SECTION_EXPORT = 7;
const SECTION_CODE = 10;
const EXPORT_MEMORY = 2;
const EXPORT_GLOBAL = 3;
const V128 = 0x7b;
const END = 0x0b;
const IMPORT_FUNCTION = 0;
const IMPORT_TABLE = 1;
const IMPORT_MEMORY = 2;
const IMPORT_GLOBAL = 3;
const IMPORT_TAG = 4;
const LIMITS_HAS_MAX = 0x01;
const LIMITS_SHARED = 0x02;

/** A mutable global the rewriter cannot export (a `v128`, or an initializer it does not know). */
export class UnexposableGlobalError extends InvalidModuleError {
  constructor(message: string) {
    super(message);
    this.name = 'UnexposableGlobalError';
  }
}

/** The export name of the mutable global at `index` when `exposeMutableGlobals` is set. */
export const EXPOSED_GLOBAL_PREFIX = 'livestate_global_';

/** The export name of the interrupt memory when `interruptible` is set. */
export const INTERRUPT_EXPORT = 'livestate_interrupt';

export interface RewriteOptions {
  /** The largest memory, in 64 KiB pages, any memory of the module may reach. */
  maxPages: number;
  /** Import module names to rename, e.g. `{ wasi_snapshot_preview1: 'livestate:wasi' }`. */
  renameImports?: Readonly<Record<string, string>>;
  /**
   * Export every mutable global the module defines as `livestate_global_<index>`;
   * throws an {@link UnexposableGlobalError} when one cannot be.
   */
  exposeMutableGlobals?: boolean;
  /** Every memory the module defines starts at least this large (up to its maximum), in pages. */
  minPages?: number;
  /**
   * Make the guest stoppable from another thread: add a shared one-page memory, exported as
   * `livestate_interrupt` and placed after the module's own memories (so none of their indices
   * changes), and check its first i32 at every function entry and loop header, trapping
   * (`unreachable`) once it is not 0. Throws an {@link UninterruptibleModuleError} for code
   * with an instruction the rewriter cannot decode (GC, or a proposal newer than it); such a
   * module can only be stopped by ending its thread. The todo fixture, checked, takes 12-15% more CPU
   * per event (10.7 -> 12.0 us at 10 todos, 668 -> 771 us at 1,000; medians) and is 6.6% larger.
   */
  interruptible?: boolean;
}

function capLimits(reader: Reader, writer: Writer, maxPages: number, what: string, minPages = 0): void {
  const flags = reader.byte();
  const declaredMin = reader.unsigned();
  const max = flags & LIMITS_HAS_MAX ? reader.unsigned() : undefined;
  if (declaredMin > BigInt(maxPages)) {
    throw new InvalidModuleError(
      `${what} starts at ${declaredMin} pages (${Number(declaredMin) / 16} MiB), above the memory cap of ${maxPages} pages (${maxPages / 16} MiB)`,
    );
  }
  const cappedMax = max === undefined || max > BigInt(maxPages) ? BigInt(maxPages) : max;
  const raisedMin = BigInt(minPages) > declaredMin ? BigInt(minPages) : declaredMin;
  const min = raisedMin < cappedMax ? raisedMin : cappedMax;
  writer.byte(flags | LIMITS_HAS_MAX).unsigned(min).unsigned(cappedMax);
}

function skipLimits(reader: Reader, writer: Writer): void {
  const flags = reader.byte();
  writer.byte(flags).unsigned(reader.unsigned());
  if (flags & LIMITS_HAS_MAX) writer.unsigned(reader.unsigned());
}

/** What the import section declares before the module's own functions, memories and globals. */
interface Imported {
  functions: number;
  memories: number;
  globals: number;
}

function rewriteImports(section: Uint8Array, options: RewriteOptions, imported: Imported): Uint8Array {
  const reader = new Reader(section);
  const writer = new Writer();
  const count = reader.u32();
  writer.unsigned(count);
  for (let i = 0; i < count; i++) {
    const module = reader.name();
    const name = reader.name();
    writer.name(options.renameImports?.[module] ?? module).name(name);
    const kind = reader.byte();
    writer.byte(kind);
    switch (kind) {
      case IMPORT_FUNCTION:
        writer.unsigned(reader.unsigned());
        imported.functions++;
        break;
      case IMPORT_TABLE:
        writer.byte(reader.byte());
        skipLimits(reader, writer);
        break;
      case IMPORT_MEMORY:
        capLimits(reader, writer, options.maxPages, `the imported memory "${module}" "${name}"`);
        imported.memories++;
        break;
      case IMPORT_GLOBAL:
        writer.byte(reader.byte()).byte(reader.byte());
        imported.globals++;
        break;
      case IMPORT_TAG:
        writer.byte(reader.byte()).unsigned(reader.unsigned());
        break;
      default:
        throw new InvalidModuleError(`unknown import kind ${kind}`);
    }
  }
  return writer.toBytes();
}

/** Caps the module's memories and appends the interrupt memory when there is one; returns how many the module defines. */
function rewriteMemories(section: Uint8Array, options: RewriteOptions, writer: Writer): number {
  const reader = new Reader(section);
  const count = reader.u32();
  writer.unsigned(options.interruptible ? count + 1 : count);
  for (let i = 0; i < count; i++) capLimits(reader, writer, options.maxPages, `memory ${i}`, options.minPages);
  if (options.interruptible) writer.byte(LIMITS_HAS_MAX | LIMITS_SHARED).unsigned(1).unsigned(1);
  return count;
}

/** Skips a constant expression up to its `end`; throws on an instruction a global initializer does not use. */
function skipConstantExpression(reader: Reader, index: number): void {
  for (;;) {
    const opcode = reader.byte();
    switch (opcode) {
      case END:
        return;
      case 0x41: // i32.const
      case 0x42: // i64.const
      case 0x23: // global.get
      case 0xd0: // ref.null
      case 0xd2: // ref.func
        reader.unsigned();
        break;
      case 0x43: // f32.const
        reader.slice(4);
        break;
      case 0x44: // f64.const
        reader.slice(8);
        break;
      case 0x6a: // i32.add, sub, mul (extended constant expressions)
      case 0x6b:
      case 0x6c:
      case 0x7c: // i64.add, sub, mul
      case 0x7d:
      case 0x7e:
        break;
      default:
        throw new UnexposableGlobalError(`global ${index} has an initializer with instruction 0x${opcode.toString(16)}`);
    }
  }
}

/** The indices of the mutable globals a global section defines. */
function mutableGlobals(section: Uint8Array, importedGlobals: number): number[] {
  const reader = new Reader(section);
  const count = reader.u32();
  const mutable: number[] = [];
  for (let i = 0; i < count; i++) {
    const index = importedGlobals + i;
    const readable = reader.valueType() !== V128;
    const isMutable = reader.byte() === 1;
    skipConstantExpression(reader, index);
    if (!isMutable) continue;
    if (!readable) throw new UnexposableGlobalError(`global ${index} is a mutable v128, which JavaScript cannot save`);
    mutable.push(index);
  }
  return mutable;
}

interface Export {
  name: string;
  kind: number;
  index: number;
  /** What to throw when the module already exports this name. */
  taken: new (message: string) => InvalidModuleError;
}

function addExports(section: Uint8Array, added: readonly Export[]): Uint8Array {
  const reader = new Reader(section);
  const count = reader.u32();
  const writer = new Writer().unsigned(count + added.length).bytes(section.subarray(reader.offset));
  for (let i = 0; i < count; i++) {
    const name = reader.name();
    const clash = added.find((entry) => entry.name === name);
    if (clash) throw new clash.taken(`the module already exports "${name}", a name the host needs`);
    reader.byte();
    reader.unsigned();
  }
  for (const { name, kind, index } of added) writer.name(name).byte(kind).unsigned(index);
  return writer.toBytes();
}

/** Section ids in the order a module must have them (custom sections, id 0, may go anywhere). */
const SECTION_ORDER = [1, SECTION_IMPORT, 3, 4, SECTION_MEMORY, 13, SECTION_GLOBAL, SECTION_EXPORT, 8, 9, 12, SECTION_CODE, 11];
const EMPTY_SECTION = Uint8Array.of(0);
const rank = (id: number) => SECTION_ORDER.indexOf(id);

export function rewriteModule(bytes: Uint8Array, options: RewriteOptions): Uint8Array {
  const header = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  if (bytes.length < MAGIC_AND_VERSION || header.some((value, i) => bytes[i] !== value)) {
    throw new InvalidModuleError('not a WebAssembly module (bad magic number or version)');
  }
  const reader = new Reader(bytes);
  reader.offset = MAGIC_AND_VERSION;
  const writer = new Writer().bytes(bytes.subarray(0, MAGIC_AND_VERSION));
  const imported: Imported = { functions: 0, memories: 0, globals: 0 };
  let flagMemory = 0;
  let exposed: number[] = [];
  const exports = (): Export[] => [
    ...exposed.map((index) => ({ name: EXPOSED_GLOBAL_PREFIX + index, kind: EXPORT_GLOBAL, index, taken: UnexposableGlobalError })),
    ...(options.interruptible ? [{ name: INTERRUPT_EXPORT, kind: EXPORT_MEMORY, index: flagMemory, taken: UninterruptibleModuleError }] : []),
  ];
  const rewrite = (id: number, content: Uint8Array): Uint8Array => {
    switch (id) {
      case SECTION_IMPORT:
        return rewriteImports(content, options, imported);
      case SECTION_MEMORY: {
        const memories = new Writer();
        flagMemory = imported.memories + rewriteMemories(content, options, memories);
        return memories.toBytes();
      }
      case SECTION_GLOBAL:
        if (options.exposeMutableGlobals) exposed = mutableGlobals(content, imported.globals);
        return content;
      case SECTION_EXPORT: {
        const added = exports();
        return added.length > 0 ? addExports(content, added) : content;
      }
      case SECTION_CODE:
        return options.interruptible ? instrumentCode(content, { importedFunctions: imported.functions, flagMemory }) : content;
      default:
        return content;
    }
  };
  // A module without a memory or export section gets one when the host needs to add to it.
  const missing = new Set<number>(options.interruptible ? [SECTION_MEMORY, SECTION_EXPORT] : []);
  const emit = (id: number, content: Uint8Array) => {
    missing.delete(id);
    const rewritten = rewrite(id, content);
    writer.byte(id).unsigned(rewritten.length).bytes(rewritten);
  };
  const emitMissingBefore = (order: number) => {
    for (const absent of missing) if (rank(absent) < order) emit(absent, EMPTY_SECTION);
  };
  while (reader.offset < bytes.length) {
    const id = reader.byte();
    const content = reader.slice(reader.u32());
    if (id !== SECTION_CUSTOM) emitMissingBefore(rank(id));
    emit(id, content);
  }
  emitMissingBefore(Infinity);
  return writer.toBytes();
}
