/**
 * Assembles small WebAssembly modules byte by byte, for tests that need instructions
 * no fixture toolchain here emits (threads, exceptions, typed references, …).
 */

export type Bytes = number[];

export const I32 = 0x7f;
export const I64 = 0x7e;
export const V128 = 0x7b;
export const FUNCREF = 0x70;
export const EMPTY_BLOCK = 0x40;
export const END = 0x0b;

/** The types every built module has, in this order, so that code can name them by index. */
export const TYPE = { none: 0, toI32: 1, i32ToI32: 2, twoI32ToI32: 3 } as const;
const TYPES: Bytes[] = [
  [0x60, 0, 0],
  [0x60, 0, 1, I32],
  [0x60, 1, I32, 1, I32],
  [0x60, 2, I32, I32, 1, I32],
];

export function leb(value: number): Bytes {
  const bytes: Bytes = [];
  do {
    const low = value & 0x7f;
    value >>>= 7;
    bytes.push(value === 0 ? low : low | 0x80);
  } while (value !== 0);
  return bytes;
}

export const vector = (items: readonly Bytes[]): Bytes => [...leb(items.length), ...items.flat()];
export const name = (text: string): Bytes => [...leb(Buffer.byteLength(text)), ...Buffer.from(text)];
const section = (id: number, items: readonly Bytes[] | undefined): Bytes => {
  if (!items?.length) return [];
  const content = vector(items);
  return [id, ...leb(content.length), ...content];
};

export interface FunctionSpec {
  type: number;
  /** Local declarations, each `[count, ...value type]`. */
  locals?: Bytes[];
  /** The instructions, without the final `end`. */
  body: Bytes;
  export?: string;
}

export interface ModuleSpec {
  /** Imported functions, each of a type from {@link TYPE}; they come first in the function index space. */
  imports?: { module: string; name: string; type: number }[];
  importedMemory?: { module: string; name: string; limits: Bytes };
  tables?: Bytes[];
  /** Limits of each memory the module defines; the first is exported as "memory". */
  memories?: Bytes[];
  /** How many exception tags of type `[] -> []` the module defines. */
  tags?: number;
  globals?: Bytes[];
  functions: FunctionSpec[];
  elements?: Bytes[];
  /** Passive data segments' contents. */
  data?: Bytes[];
}

export function buildModule(spec: ModuleSpec): Uint8Array {
  const imports = (spec.imports ?? []).map((entry) => [...name(entry.module), ...name(entry.name), 0x00, ...leb(entry.type)]);
  if (spec.importedMemory) imports.push([...name(spec.importedMemory.module), ...name(spec.importedMemory.name), 0x02, ...spec.importedMemory.limits]);
  const importedFunctions = spec.imports?.length ?? 0;
  const exports = spec.functions.flatMap((fn, i) => (fn.export ? [[...name(fn.export), 0x00, ...leb(importedFunctions + i)]] : []));
  if (spec.memories?.length) exports.push([...name('memory'), 0x02, 0x00]);
  const bodies = spec.functions.map((fn) => {
    const body = [...vector(fn.locals ?? []), ...fn.body, END];
    return [...leb(body.length), ...body];
  });
  const data = spec.data?.map((bytes) => [0x01, ...vector(bytes.map((byte) => [byte]))]);
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, TYPES),
    ...section(2, imports),
    ...section(3, spec.functions.map((fn) => leb(fn.type))),
    ...section(4, spec.tables),
    ...section(5, spec.memories),
    ...section(13, Array.from({ length: spec.tags ?? 0 }, () => [0x00, TYPE.none])),
    ...section(6, spec.globals),
    ...section(7, exports),
    ...section(9, spec.elements),
    ...(data ? [12, ...leb(leb(data.length).length), ...leb(data.length)] : []),
    ...section(10, bodies),
    ...section(11, data),
  ]);
}

/** How many times `pattern` occurs in `bytes`. */
export function occurrences(bytes: Uint8Array, pattern: Bytes): number {
  let count = 0;
  for (let i = bytes.indexOf(pattern[0]!); i !== -1; i = bytes.indexOf(pattern[0]!, i + 1)) {
    if (pattern.every((byte, j) => bytes[i + j] === byte)) count++;
  }
  return count;
}
