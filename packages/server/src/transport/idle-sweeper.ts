import type { LiveSocket } from './socket.js';

/**
 * Closes sockets that have sent nothing, not even a heartbeat, for `timeoutMs`:
 * dead peers that never closed. One timer serves every socket, so an idle
 * connection costs a timestamp rather than a timer of its own.
 */
export class IdleSweeper {
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly sockets: ReadonlySet<LiveSocket>,
    private readonly timeoutMs: number,
  ) {
    this.timer = setInterval(() => this.sweep(), Math.max(10, Math.floor(timeoutMs / 4)));
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private sweep(): void {
    const deadline = Date.now() - this.timeoutMs;
    for (const socket of this.sockets) {
      if (socket.lastSeen < deadline) socket.close(1000, 'heartbeat timeout');
    }
  }
}
