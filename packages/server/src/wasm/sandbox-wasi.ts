import { randomFillSync } from 'node:crypto';

/** Where a module's WASI imports are renamed to, so that they resolve to this sandbox. */
export const WASI_NAMESPACE = 'livestate:wasi';
export const WASI_MODULES = ['wasi_snapshot_preview1', 'wasi_unstable'];

const SUCCESS = 0;
const EBADF = 8;
const ENOSYS = 52;
const ESPIPE = 70;
const ENOTCAPABLE = 76;
const FILETYPE_CHARACTER_DEVICE = 2;
const CLOCK_REALTIME = 0;
const STDOUT = 1;
const STDERR = 2;

/** Thrown by `proc_exit`: ends the call, which then fails with the exit code. */
export class WasiExit extends Error {
  constructor(readonly code: number) {
    super(`the handler exited with code ${code}`);
    this.name = 'WasiExit';
  }
}

export type WasiOutput = (stream: 'stdout' | 'stderr', line: string) => void;

/**
 * WASI preview 1 with nothing granted: no preopened directories, no environment
 * variables, no arguments, no sockets. Standard output and error are delivered line
 * by line to `output` (the server's logger) instead of the process's own streams;
 * clocks and randomness work. Every other call answers an error code, so modules
 * compiled from JavaScript or C with wasi-libc load and run unchanged, sandboxed.
 */
export function sandboxWasi(importedNames: readonly string[], memory: () => WebAssembly.Memory, output: WasiOutput) {
  const view = () => new DataView(memory().buffer);
  const pending = { stdout: '', stderr: '' };
  const decoders = { stdout: new TextDecoder(), stderr: new TextDecoder() };

  const emit = (stream: 'stdout' | 'stderr', text: string) => {
    const lines = (pending[stream] + text).split('\n');
    pending[stream] = lines.pop()!;
    for (const line of lines) output(stream, line);
  };

  const implemented: Record<string, (...args: any[]) => number> = {
    fd_write(fd: number, iovs: number, iovsLength: number, writtenPointer: number) {
      if (fd !== STDOUT && fd !== STDERR) return EBADF;
      const stream = fd === STDOUT ? 'stdout' : 'stderr';
      const data = view();
      let written = 0;
      for (let i = 0; i < iovsLength; i++) {
        const pointer = data.getUint32(iovs + i * 8, true);
        const length = data.getUint32(iovs + i * 8 + 4, true);
        emit(stream, decoders[stream].decode(new Uint8Array(memory().buffer, pointer, length), { stream: true }));
        written += length;
      }
      data.setUint32(writtenPointer, written, true);
      return SUCCESS;
    },
    fd_read(fd: number, _iovs: number, _iovsLength: number, readPointer: number) {
      if (fd !== 0) return EBADF;
      view().setUint32(readPointer, 0, true);
      return SUCCESS;
    },
    fd_fdstat_get(fd: number, pointer: number) {
      if (fd > STDERR) return EBADF;
      const data = view();
      data.setUint8(pointer, FILETYPE_CHARACTER_DEVICE);
      data.setUint16(pointer + 2, 0, true);
      data.setBigUint64(pointer + 8, 0xffffffffn, true);
      data.setBigUint64(pointer + 16, 0n, true);
      return SUCCESS;
    },
    fd_prestat_get: () => EBADF,
    fd_close: (fd: number) => (fd <= STDERR ? SUCCESS : EBADF),
    fd_seek: (fd: number) => (fd <= STDERR ? ESPIPE : EBADF),
    environ_sizes_get: (count: number, size: number) => writeZeros(view(), count, size),
    args_sizes_get: (count: number, size: number) => writeZeros(view(), count, size),
    environ_get: () => SUCCESS,
    args_get: () => SUCCESS,
    clock_res_get(_id: number, pointer: number) {
      view().setBigUint64(pointer, 1000n, true);
      return SUCCESS;
    },
    clock_time_get(id: number, _precision: bigint, pointer: number) {
      const now = id === CLOCK_REALTIME ? BigInt(Date.now()) * 1_000_000n : process.hrtime.bigint();
      view().setBigUint64(pointer, now, true);
      return SUCCESS;
    },
    random_get(pointer: number, length: number) {
      randomFillSync(new Uint8Array(memory().buffer, pointer, length));
      return SUCCESS;
    },
    sched_yield: () => SUCCESS,
    proc_exit(code: number): never {
      throw new WasiExit(code);
    },
  };

  const functions: Record<string, (...args: any[]) => number> = {};
  for (const name of importedNames) {
    const denied = name.startsWith('path_') || name.startsWith('sock_') ? ENOTCAPABLE : ENOSYS;
    // Extism passes its call context first; WASI functions have no use for it.
    const implementation = implemented[name] ?? (() => denied);
    functions[name] = (_context: unknown, ...args: any[]) => implementation(...args);
  }
  return functions;
}

function writeZeros(data: DataView, ...pointers: number[]): number {
  for (const pointer of pointers) data.setUint32(pointer, 0, true);
  return SUCCESS;
}
