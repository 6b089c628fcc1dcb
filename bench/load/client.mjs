// One simulated client that writes Phoenix frames itself (phoenix.js would measure its
// own bookkeeping rather than the server), or plain messages for the raw baselines.
import { WebSocket } from 'ws';

export class BenchClient {
  bytesReceived = 0;
  messagesReceived = 0;
  patchesReceived = 0;
  #ws;
  #waiting;
  #nextRef = 1;
  #joinRef;
  #topic;

  static async connect(port, protocol, id) {
    const path = protocol === 'phoenix' ? '/socket/websocket?vsn=2.0.0' : '/';
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, { perMessageDeflate: false });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    return new BenchClient(ws, protocol, id);
  }

  constructor(ws, protocol, id) {
    this.#ws = ws;
    this.protocol = protocol;
    this.id = id;
    ws.on('message', (data) => {
      const text = data.toString();
      this.bytesReceived += data.length;
      this.messagesReceived++;
      // The event name is the fourth field, well within the first 200 characters of a bench frame.
      if (text.slice(0, 200).includes('"state:patch"')) this.patchesReceived++;
      const waiting = this.#waiting;
      if (!waiting) return;
      if (waiting.match === text || (waiting.contains && text.includes(waiting.contains))) {
        this.#waiting = undefined;
        waiting.resolve(text);
      } else if (this.protocol === 'phoenix' && /^\[[^\]]*?,"(error|phx_error)",/.test(text.slice(0, 300))) {
        this.#waiting = undefined;
        waiting.reject(new Error(`client ${this.id}: the server answered ${text.slice(0, 300)}`));
      }
    });
  }

  /** Resolves with the first message equal to `match`, or containing `contains`; rejects on an error push. */
  #expect(match, contains) {
    return new Promise((resolve, reject) => (this.#waiting = { match, contains, resolve, reject }));
  }

  /**
   * Joins a LiveState topic and resolves with the text of the first frame that contains
   * `until` (by default, when its state arrives).
   */
  async join(topic, params = {}, until = '"state:change"') {
    this.#joinRef = String(this.#nextRef++);
    this.#topic = topic;
    const frame = this.#expect(undefined, until);
    this.#ws.send(JSON.stringify([this.#joinRef, this.#joinRef, topic, 'phx_join', params]));
    return frame;
  }

  /** Sends one event carrying a unique marker and resolves when the marker comes back. */
  roundTrip(sequence) {
    const marker = `c${this.id}-${sequence}`;
    if (this.protocol === 'raw') {
      const echoed = this.#expect(marker);
      this.#ws.send(marker);
      return echoed;
    }
    const patched = this.#expect(undefined, `"${marker}"`);
    const ref = String(this.#nextRef++);
    this.#ws.send(`["${this.#joinRef}","${ref}",${JSON.stringify(this.#topic)},"lvs_evt:addTodo",{"todo":"${marker}"}]`);
    return patched;
  }

  /** Resolves once the server answers a heartbeat, so every frame it sent before has arrived. */
  async sync() {
    const ref = `sync-${this.#nextRef++}`;
    const replied = this.#expect(undefined, `"${ref}"`);
    this.#ws.send(`[null,"${ref}","phoenix","heartbeat",{}]`);
    await replied;
  }

  close() {
    this.#ws.terminate();
  }
}
