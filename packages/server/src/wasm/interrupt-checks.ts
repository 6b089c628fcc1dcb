/**
 * Puts an interrupt check at the start of every function body and of every loop, so
 * that a guest running on the server's main thread can be stopped by another thread:
 * the check traps once the first i32 of the module's interrupt memory is not 0.
 * Finding every loop means decoding every instruction, so an instruction this file
 * does not know refuses the module rather than risk a loop without a check.
 */
import { InvalidModuleError, Reader, REF, REF_NULL, Writer } from './wasm-binary.js';

/** A module whose code uses an instruction the rewriter cannot decode, so it cannot be made interruptible. */
export class UninterruptibleModuleError extends InvalidModuleError {
  constructor(message: string) {
    super(message);
    this.name = 'UninterruptibleModuleError';
  }
}

export interface CodeLayout {
  /** Function indices count imported functions first. */
  importedFunctions: number;
  /** The index of the interrupt memory, which is above every memory the module's own code may use. */
  flagMemory: number;
}

const LOOP = 0x03;
const MEMARG_HAS_MEMORY = 0x40;

/**
 * `i32.const 0; i32.atomic.load (memory flag); if; unreachable; end`: a block of its own,
 * so no branch depth changes. The load is atomic because the optimizing compiler may hoist
 * a plain load out of a loop that does not write memory, and then never see the flag change.
 */
function interruptCheck(flagMemory: number): Uint8Array {
  const memarg = new Writer().byte(2 | MEMARG_HAS_MEMORY).unsigned(flagMemory).byte(0).toBytes();
  return Uint8Array.from([0x41, 0x00, 0xfe, 0x10, ...memarg, 0x04, 0x40, 0x00, 0x0b]);
}

class CodeReader extends Reader {
  functionIndex = 0;
  constructor(
    bytes: Uint8Array,
    private readonly flagMemory: number,
  ) {
    super(bytes);
  }

  memoryIndex(): void {
    const index = this.u32();
    if (index >= this.flagMemory) {
      throw new InvalidModuleError(`function ${this.functionIndex} uses memory ${index}, which the module does not have`);
    }
  }

  memarg(): void {
    if (this.u32() & MEMARG_HAS_MEMORY) this.memoryIndex();
    this.skipNumber();
  }

  /** 0x40, a value type, or a type index as a signed LEB128 number. */
  blockType(): void {
    const first = this.byte();
    if (first === REF || first === REF_NULL || first & 0x80) this.skipNumber();
  }

  unknown(opcode: string): never {
    throw new UninterruptibleModuleError(`function ${this.functionIndex} uses opcode ${opcode}, which the rewriter cannot instrument`);
  }
}

type Immediates = (code: CodeReader) => void;

const none: Immediates = () => {};
/** Any one LEB128 number: an index, a constant, a heap type. */
const number: Immediates = (code) => code.skipNumber();
const twoNumbers: Immediates = (code) => (code.skipNumber(), code.skipNumber());
const memarg: Immediates = (code) => code.memarg();
const memory: Immediates = (code) => code.memoryIndex();
const bytes =
  (length: number): Immediates =>
  (code) =>
    code.slice(length);

const range = (first: number, last: number) => Array.from({ length: last - first + 1 }, (_, i) => first + i);
const ranges = (...bounds: [first: number, last: number][]) => bounds.flatMap(([first, last]) => range(first, last));

function table(...entries: [opcodes: number[], immediates: Immediates][]): Map<number, Immediates> {
  return new Map(entries.flatMap(([opcodes, immediates]) => opcodes.map((opcode) => [opcode, immediates])));
}

/** 0xFC: saturating truncation, bulk memory and table instructions. */
const miscellaneous = table(
  [range(0, 7), none],
  [[8], (code) => (code.skipNumber(), code.memoryIndex())], // memory.init data memory
  [[9, 13, 15, 16, 17], number], // data.drop, elem.drop, table.grow/size/fill
  [[10], (code) => (code.memoryIndex(), code.memoryIndex())], // memory.copy
  [[11], memory], // memory.fill
  [[12, 14], twoNumbers], // table.init, table.copy
);

/** 0xFD: SIMD and relaxed SIMD; the gaps between these ranges are unassigned. */
const vector = table(
  [[...range(0, 11), 92, 93], memarg],
  [[12, 13], bytes(16)], // v128.const, i8x16.shuffle
  [range(21, 34), bytes(1)], // extract and replace lane
  [range(84, 91), (code) => (code.memarg(), code.slice(1))], // load and store lane
  [ranges([14, 20], [35, 83], [94, 153], [155, 161], [163, 164], [167, 174], [177, 177], [181, 186], [188, 193], [195, 196], [199, 206], [209, 209], [213, 225], [227, 237], [239, 275]), none],
);

/** 0xFE: threads. */
const atomic = table([[0, 1, 2, ...range(0x10, 0x4e)], memarg], [[3], bytes(1)]);

const prefixed = (prefix: number, subtable: Map<number, Immediates>): Immediates => (code) => {
  const opcode = code.u32();
  const immediates = subtable.get(opcode) ?? code.unknown(`0x${prefix.toString(16)} ${opcode}`);
  immediates(code);
};

const catchClause: Immediates = (code) => {
  const kind = code.byte();
  if (kind > 3) code.unknown(`0x1f with catch kind ${kind}`);
  if (kind < 2) code.skipNumber(); // catch and catch_ref name a tag
  code.skipNumber();
};

const vectorOf =
  (element: Immediates): Immediates =>
  (code) => {
    for (let count = code.u32(); count > 0; count--) element(code);
  };

/** The single-byte opcodes of the core instructions and of the proposals Node runs. */
const instructions = table(
  [[0x00, 0x01, 0x05, 0x0a, 0x0b, 0x0f, 0x19, 0x1a, 0x1b, 0xd1, 0xd4, ...range(0x45, 0xc4)], none],
  [[0x02, LOOP, 0x04, 0x06], (code) => code.blockType()], // block, loop, if, try
  [[0x07, 0x08, 0x09, 0x0c, 0x0d, 0x10, 0x12, 0x14, 0x15, 0x18, ...range(0x20, 0x26), 0x41, 0x42, 0xd0, 0xd2, 0xd5, 0xd6], number],
  [[0x0e], (code) => (vectorOf(number)(code), code.skipNumber())], // br_table
  [[0x11, 0x13], twoNumbers], // call_indirect, return_call_indirect
  [[0x1c], vectorOf((code) => void code.valueType())], // select with types
  [[0x1f], (code) => (code.blockType(), vectorOf(catchClause)(code))], // try_table
  [range(0x28, 0x3e), memarg],
  [[0x3f, 0x40], memory],
  [[0x43], bytes(4)],
  [[0x44], bytes(8)],
  [[0xfc], prefixed(0xfc, miscellaneous)],
  [[0xfd], prefixed(0xfd, vector)],
  [[0xfe], prefixed(0xfe, atomic)],
  [[0xfb], prefixed(0xfb, new Map())], // garbage collection: named in the error, never decoded
);

/** Rewrites a code section with a check at every function entry and loop header. */
export function instrumentCode(section: Uint8Array, layout: CodeLayout): Uint8Array {
  const code = new CodeReader(section, layout.flagMemory);
  const check = interruptCheck(layout.flagMemory);
  const count = code.u32();
  const writer = new Writer().unsigned(count);
  for (let i = 0; i < count; i++) {
    code.functionIndex = layout.importedFunctions + i;
    const size = code.u32();
    const start = code.offset;
    const end = start + size;
    vectorOf((locals) => (locals.skipNumber(), void locals.valueType()))(code);
    const checkpoints = [code.offset];
    while (code.offset < end) {
      const opcode = code.byte();
      const immediates = instructions.get(opcode) ?? code.unknown(`0x${opcode.toString(16).padStart(2, '0')}`);
      immediates(code);
      if (opcode === LOOP) checkpoints.push(code.offset);
    }
    if (code.offset !== end) throw new InvalidModuleError(`function ${code.functionIndex} runs past the end of its body`);
    writer.unsigned(size + checkpoints.length * check.length);
    let copied = start;
    for (const checkpoint of checkpoints) {
      writer.bytes(section.subarray(copied, checkpoint)).bytes(check);
      copied = checkpoint;
    }
    writer.bytes(section.subarray(copied, end));
  }
  if (code.offset !== section.length) throw new InvalidModuleError('the code section has bytes after its last function');
  return writer.toBytes();
}
