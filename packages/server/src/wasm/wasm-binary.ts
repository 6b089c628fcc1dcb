/** Reading and writing the WebAssembly binary format: LEB128 numbers, names, byte runs. */

/** The value types `(ref ht)` and `(ref null ht)`, whose heap type follows. */
export const REF = 0x64;
export const REF_NULL = 0x63;

export class InvalidModuleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidModuleError';
  }
}

export class Reader {
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

  /** An unsigned LEB128 number of at most 32 bits, without the cost of a bigint. */
  u32(): number {
    let result = 0;
    for (let scale = 1; ; scale *= 128) {
      const byte = this.byte();
      result += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) return result;
      if (scale === 2 ** 28) throw new InvalidModuleError('malformed LEB128 number');
    }
  }

  /** Passes over a LEB128 number of any width or signedness. */
  skipNumber(): void {
    for (let length = 1; this.byte() & 0x80; length++) {
      if (length === 10) throw new InvalidModuleError('malformed LEB128 number');
    }
  }

  /** A value type's first byte; a reference type's heap type, which follows it, is passed over. */
  valueType(): number {
    const type = this.byte();
    if (type === REF || type === REF_NULL) this.skipNumber();
    return type;
  }

  slice(length: number): Uint8Array {
    if (this.offset + length > this.bytes.length) throw new InvalidModuleError('unexpected end of the module');
    return this.bytes.subarray(this.offset, (this.offset += length));
  }

  name(): string {
    return new TextDecoder().decode(this.slice(this.u32()));
  }
}

export class Writer {
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
