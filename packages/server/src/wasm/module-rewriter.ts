/**
 * Rewrites the parts of a WebAssembly binary that the host must control before
 * it compiles a module:
 * - memory limits: every memory the module defines or imports gets a maximum no
 *   larger than the cap, including memories that declare none, so a guest can
 *   never grow past it whatever it was built with;
 * - import module names: WASI imports are renamed so that they resolve to the
 *   host's own sandboxed WASI rather than the SDK's;
 * - optionally, every mutable global the module defines is exported, so that the
 *   host can save and restore an instance's globals with its memory.
 * Only the import (2), memory (5) and export (7) sections are rebuilt; every other byte is copied.
 */

const MAGIC_AND_VERSION = 8;
const SECTION_IMPORT = 2;
const SECTION_MEMORY = 5;
const SECTION_GLOBAL = 6;
const SECTION_EXPORT = 7;
const EXPORT_GLOBAL = 3;
const END = 0x0b;
const IMPORT_FUNCTION = 0;
const IMPORT_TABLE = 1;
const IMPORT_MEMORY = 2;
const IMPORT_GLOBAL = 3;
const IMPORT_TAG = 4;
const LIMITS_HAS_MAX = 0x01;

export class InvalidModuleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidModuleError';
  }
}

/** A mutable global the rewriter cannot export (a `v128`, or an initializer it does not know). */
export class UnexposableGlobalError extends InvalidModuleError {
  constructor(message: string) {
    super(message);
    this.name = 'UnexposableGlobalError';
  }
}

/** The export name of the mutable global at `index` when `exposeMutableGlobals` is set. */
export const EXPOSED_GLOBAL_PREFIX = 'livestate_global_';

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
}

class Reader {
  offset = 0;
  constructor(private readonly bytes: Uint8Array) {}

  byte(): number {
    if (this.offset >= this.bytes.length) throw new InvalidModuleError('unexpected end of the module');
    return this.bytes[this.offset++]!;
  }

  /** An unsigned LEB128 number (u32 or u64, as a bigint). */
  unsigned(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const byte = this.byte();
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 70n) throw new InvalidModuleError('malformed LEB128 number');
    }
  }

  u32(): number {
    return Number(this.unsigned());
  }

  slice(length: number): Uint8Array {
    if (this.offset + length > this.bytes.length) throw new InvalidModuleError('unexpected end of the module');
    return this.bytes.subarray(this.offset, (this.offset += length));
  }

  name(): string {
    return new TextDecoder().decode(this.slice(this.u32()));
  }
}

class Writer {
  private readonly chunks: Uint8Array[] = [];
  private pending: number[] = [];

  byte(value: number): this {
    this.pending.push(value);
    return this;
  }

  unsigned(value: bigint | number): this {
    let rest = BigInt(value);
    do {
      const byte = Number(rest & 0x7fn);
      rest >>= 7n;
      this.pending.push(rest === 0n ? byte : byte | 0x80);
    } while (rest !== 0n);
    return this;
  }

  bytes(values: Uint8Array): this {
    this.flush();
    this.chunks.push(values);
    return this;
  }

  name(value: string): this {
    const encoded = new TextEncoder().encode(value);
    return this.unsigned(encoded.length).bytes(encoded);
  }

  toBytes(): Uint8Array {
    this.flush();
    return Buffer.concat(this.chunks);
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    this.chunks.push(Uint8Array.from(this.pending));
    this.pending = [];
  }
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

function rewriteImports(section: Uint8Array, options: RewriteOptions, globals: { imported: number }): Uint8Array {
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
        break;
      case IMPORT_TABLE:
        writer.byte(reader.byte());
        skipLimits(reader, writer);
        break;
      case IMPORT_MEMORY:
        capLimits(reader, writer, options.maxPages, `the imported memory "${module}" "${name}"`);
        break;
      case IMPORT_GLOBAL:
        writer.byte(reader.byte()).byte(reader.byte());
        globals.imported++;
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

function rewriteMemories(section: Uint8Array, options: RewriteOptions): Uint8Array {
  const reader = new Reader(section);
  const writer = new Writer();
  const count = reader.u32();
  writer.unsigned(count);
  for (let i = 0; i < count; i++) capLimits(reader, writer, options.maxPages, `memory ${i}`, options.minPages);
  return writer.toBytes();
}

/** Skips a value type, returning false for one whose globals JavaScript cannot read or write (`v128`). */
function skipValueType(reader: Reader): boolean {
  const type = reader.byte();
  if (type === 0x7b) return false;
  // (ref ht) and (ref null ht) carry a heap type.
  if (type === 0x63 || type === 0x64) reader.unsigned();
  return true;
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
    const readable = skipValueType(reader);
    const isMutable = reader.byte() === 1;
    skipConstantExpression(reader, index);
    if (!isMutable) continue;
    if (!readable) throw new UnexposableGlobalError(`global ${index} is a mutable v128, which JavaScript cannot save`);
    mutable.push(index);
  }
  return mutable;
}

function addGlobalExports(section: Uint8Array, globals: readonly number[]): Uint8Array {
  const reader = new Reader(section);
  const count = reader.u32();
  const names = globals.map((index) => EXPOSED_GLOBAL_PREFIX + index);
  const rest = section.subarray(reader.offset);
  const writer = new Writer().unsigned(count + globals.length).bytes(rest);
  for (let i = 0; i < count; i++) {
    if (names.includes(reader.name())) throw new UnexposableGlobalError(`the module already exports a name the host needs`);
    reader.byte();
    reader.unsigned();
  }
  globals.forEach((index, i) => writer.name(names[i]!).byte(EXPORT_GLOBAL).unsigned(index));
  return writer.toBytes();
}

export function rewriteModule(bytes: Uint8Array, options: RewriteOptions): Uint8Array {
  const header = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  if (bytes.length < MAGIC_AND_VERSION || header.some((value, i) => bytes[i] !== value)) {
    throw new InvalidModuleError('not a WebAssembly module (bad magic number or version)');
  }
  const reader = new Reader(bytes);
  reader.offset = MAGIC_AND_VERSION;
  const writer = new Writer().bytes(bytes.subarray(0, MAGIC_AND_VERSION));
  const globals = { imported: 0 };
  let exposed: number[] = [];
  while (reader.offset < bytes.length) {
    const id = reader.byte();
    const content = reader.slice(reader.u32());
    let rewritten = content;
    if (id === SECTION_IMPORT) rewritten = rewriteImports(content, options, globals);
    else if (id === SECTION_MEMORY) rewritten = rewriteMemories(content, options);
    else if (id === SECTION_GLOBAL && options.exposeMutableGlobals) exposed = mutableGlobals(content, globals.imported);
    else if (id === SECTION_EXPORT && exposed.length > 0) rewritten = addGlobalExports(content, exposed);
    writer.byte(id).unsigned(rewritten.length).bytes(rewritten);
  }
  return writer.toBytes();
}
