// The `faults` workload's attackers, each a loop that runs until stopped and reconnects
// when the server drops it: malformed frames on the well-behaved clients' topic, WebAssembly
// events that never return, and sockets that stop reading while asking for big states.
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocket } from 'ws';

/** The server's default frame limit: one byte more closes the socket with 1009. */
const MAX_FRAME_BYTES = 1024 * 1024;
/** A never-reading socket asks for a state of this many todos (about 45 KB) this often. */
const BIG_STATE_TODOS = 1_000;
const REFRESH_EVERY_MS = 2;

/** A Phoenix socket that waits for frames by a substring; a close rejects what it waits for. */
class AttackSocket {
  #waiting = [];

  static async open(port) {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/socket/websocket?vsn=2.0.0`, { perMessageDeflate: false });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    return new AttackSocket(ws);
  }

  constructor(ws) {
    this.ws = ws;
    ws.on('error', () => {});
    ws.on('message', (data) => {
      const text = data.toString();
      const matched = this.#waiting.filter((waiter) => text.includes(waiter.contains));
      this.#waiting = this.#waiting.filter((waiter) => !matched.includes(waiter));
      matched.forEach((waiter) => waiter.resolve(text));
    });
    ws.on('close', () => this.#waiting.splice(0).forEach((waiter) => waiter.reject(new Error('closed'))));
  }

  get open() {
    return this.ws.readyState === WebSocket.OPEN;
  }

  next(contains) {
    return new Promise((resolve, reject) => (this.open ? this.#waiting.push({ contains, resolve, reject }) : reject(new Error('closed'))));
  }

  async join(topic, params = {}) {
    const state = this.next('"state:change"');
    this.ws.send(JSON.stringify(['1', '1', topic, 'phx_join', params]));
    await state;
  }

  /** Resolves when the server has handled everything sent before. */
  async heartbeat(ref) {
    const reply = this.next(`"${ref}"`);
    this.ws.send(JSON.stringify([null, ref, 'phoenix', 'heartbeat', {}]));
    await reply;
  }

  close() {
    this.ws.terminate();
  }
}

/** Frames the server must answer with an error and otherwise ignore; the socket has joined `topic` with join_ref "1". */
const badFrames = (topic) => [
  '{"oops',
  '[1,2,3]',
  '{"topic":"x"}',
  JSON.stringify(['1', 'b1', 5, 'lvs_evt:addTodo', {}]),
  JSON.stringify(['1', 'b2', topic, 'lvs_evt:addTodo', 'not an object']),
  JSON.stringify(['1', 'b3', topic, 'lvs_evt:addTodo', { todo: '' }]),
  JSON.stringify(['1', 'b4', topic, 'lvs_evt:nonsense', {}]),
  `["1","b5",${JSON.stringify(topic)},"lvs_evt:addTodo",{"__proto__":{"todo":"polluted"},"constructor":1}]`,
  JSON.stringify([null, 'b6', 'bench:not-joined', 'lvs_evt:addTodo', { todo: 'x' }]),
  JSON.stringify([null, 'b7', 'phoenix', 'shout', {}]),
];

/**
 * Starts the attackers against the server on `port`: `malformed` sockets on `topic`,
 * `runaway` sockets of runaway events, and `neverReading` sockets. `started` resolves once each has
 * connected; `stop()` ends them and resolves with what they did.
 */
export function startAttackers(port, { topic, rep, malformed = 2, runaway = 1, neverReading = 2 }) {
  const stats = { malformedFrames: 0, oversizedFrames: 0, runawayEvents: 0, slowSocketsDropped: 0 };
  const sockets = new Set();
  let stopped = false;
  const connected = [];

  /** Runs `attack` on fresh sockets until stopped; a socket the server drops is replaced. */
  const loop = (attack) => {
    let first;
    connected.push(new Promise((resolve) => (first = resolve)));
    return (async () => {
      while (!stopped) {
        const socket = await AttackSocket.open(port);
        sockets.add(socket);
        await attack(socket, first).catch(() => {});
        socket.close();
        sockets.delete(socket);
      }
      first();
    })();
  };

  const frames = badFrames(topic);
  const malformedFrames = async (socket, ready) => {
    await socket.join(topic, { limit: 100 });
    ready();
    for (let batch = 1; !stopped; batch++) {
      for (const frame of frames) socket.ws.send(frame);
      socket.ws.send(Buffer.from([1, 2, 3]), { binary: true });
      stats.malformedFrames += frames.length + 1;
      if (batch % 100 === 0) {
        socket.ws.send('x'.repeat(MAX_FRAME_BYTES + 1));
        stats.oversizedFrames++;
        await socket.next('nothing comes: the server closes the socket, which ends this attack');
      }
      await socket.heartbeat(`hb-${batch}`);
    }
  };

  const runawayEvents = async (socket, ready) => {
    await socket.join(`runaway:${rep}`);
    ready();
    for (let ref = 2; !stopped; ref++) {
      // The reply to the push, which comes after its error push.
      const failed = socket.next(`["1","${ref}"`);
      socket.ws.send(JSON.stringify(['1', String(ref), `runaway:${rep}`, 'lvs_evt:spin', {}]));
      await failed;
      stats.runawayEvents++;
    }
  };

  const neverReadingSocket = async (socket, ready) => {
    await socket.join(`bench:faults-big-${rep}`, { prefill: BIG_STATE_TODOS, limit: BIG_STATE_TODOS });
    ready();
    socket.ws._socket.pause();
    // Writes keep going; once the server drops the socket they fail and it closes.
    while (!stopped && socket.open) {
      socket.ws.send(JSON.stringify(['1', 'r', `bench:faults-big-${rep}`, 'lvs_refresh', {}]));
      await sleep(REFRESH_EVERY_MS);
    }
    if (!stopped) stats.slowSocketsDropped++;
  };

  const loops = [
    ...Array.from({ length: malformed }, () => loop(malformedFrames)),
    ...Array.from({ length: runaway }, () => loop(runawayEvents)),
    ...Array.from({ length: neverReading }, () => loop(neverReadingSocket)),
  ];
  return {
    started: Promise.all(connected),
    async stop() {
      stopped = true;
      sockets.forEach((socket) => socket.close());
      await Promise.all(loops);
      return stats;
    },
  };
}
