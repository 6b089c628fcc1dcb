import type { Writable } from 'node:stream';

/**
 * Holds writes to sockets until the event loop's turn ends, then lets each socket's go out in one
 * system call: a client sent several frames in one turn (the patches of several events, its reply
 * events and acknowledgement) costs one write instead of one per frame. Frames keep their order
 * and wait at most for the rest of the turn's I/O callbacks.
 */
export class TurnBatch {
  private readonly held = new Set<Writable>();

  hold(socket: Writable): void {
    if (this.held.has(socket)) return;
    if (this.held.size === 0) setImmediate(() => this.release());
    socket.cork();
    this.held.add(socket);
  }

  private release(): void {
    const sockets = [...this.held];
    this.held.clear();
    for (const socket of sockets) socket.uncork();
  }
}
