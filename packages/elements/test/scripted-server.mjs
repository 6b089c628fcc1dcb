// A WebSocket server that plays a recorded transcript back to a client: it waits for each
// client frame the transcript lists (`→`), checks it, and answers with the server frames
// that follow it (`←`). Refs are made by the client, so a recorded ref stands for whatever
// ref the client used in the frame where it first appeared. Heartbeats the transcript does
// not list get their usual reply.
//
// A client connects to `ws://host:port/<transcript>/<run>/socket/websocket`; each run
// replays the transcript from its start, and its outcome can be awaited by run id.
import { readFileSync } from 'node:fs';
import { WebSocketServer } from 'ws';

/** Parses a transcript: `→ [frame]` / `← [frame]` lines; `#` comments and blank lines are skipped. */
export function parseTranscript(text) {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const direction = { '→': 'client', '←': 'server' }[line[0]];
      if (!direction) throw new Error(`a transcript line starts with → or ←: ${line}`);
      return { direction, frame: JSON.parse(line.slice(1)) };
    });
}

const isHeartbeat = ([, , topic, event]) => topic === 'phoenix' && event === 'heartbeat';
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

class Replay {
  #steps;
  #refs = new Map();
  #settled;
  outcome = { done: false, errors: [] };
  finished = new Promise((resolve) => (this.#settled = resolve));

  constructor(steps, socket) {
    this.#steps = [...steps];
    this.socket = socket;
    socket.on('message', (data) => this.#receive(JSON.parse(String(data))));
    socket.on('close', () => this.#finish());
    this.#sendServerFrames();
  }

  #receive(frame) {
    if (this.outcome.done || this.outcome.errors.length > 0) return;
    const next = this.#steps[0];
    if (next?.direction === 'client' && this.#matches(next.frame, frame)) {
      this.#steps.shift();
      this.#sendServerFrames();
    } else if (isHeartbeat(frame)) {
      this.socket.send(JSON.stringify([null, frame[1], 'phoenix', 'phx_reply', { status: 'ok', response: {} }]));
    } else {
      this.outcome.errors.push(`expected ${next ? JSON.stringify(next.frame) : 'nothing'}, got ${JSON.stringify(frame)}`);
      this.#finish();
    }
  }

  /** Compares topic, event and payload; learns what the recorded refs stand for. */
  #matches(recorded, actual) {
    if (!same(recorded.slice(2), actual.slice(2))) return false;
    for (const index of [0, 1]) {
      if (recorded[index] !== null && !this.#refs.has(recorded[index])) this.#refs.set(recorded[index], actual[index]);
    }
    return true;
  }

  #sendServerFrames() {
    while (this.#steps[0]?.direction === 'server') {
      const [joinRef, ref, ...rest] = this.#steps.shift().frame;
      const mapped = (recorded) => (recorded === null ? null : (this.#refs.get(recorded) ?? recorded));
      this.socket.send(JSON.stringify([mapped(joinRef), mapped(ref), ...rest]));
    }
    if (this.#steps.length === 0) {
      this.outcome.done = true;
      this.#finish();
    }
  }

  #finish() {
    this.#settled(this.outcome);
  }
}

export async function startScriptedServer(transcriptsDir) {
  const replays = new Map();
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((resolve) => server.once('listening', resolve));
  server.on('connection', (socket, request) => {
    const [, name, run] = new URL(request.url, 'http://localhost').pathname.split('/');
    if (!/^[\w-]+$/.test(name)) return socket.close(1008, 'unknown transcript');
    const steps = parseTranscript(readFileSync(new URL(`${name}.transcript`, transcriptsDir), 'utf8'));
    replays.set(run, new Replay(steps, socket));
  });
  return {
    /** The socket URL a client passes to LiveState to replay `name` as run `run`. */
    url: (name, run) => `ws://127.0.0.1:${server.address().port}/${name}/${run}/socket`,
    /**
     * The outcome of run `run`, once it has played every frame, failed, or its socket closed;
     * after `patience` ms, what it has so far (a client that stopped short).
     */
    outcome: async (run, patience = 5000) => {
      const replay = replays.get(run);
      if (!replay) return { done: false, errors: ['no client connected'] };
      let timer;
      const waited = new Promise((resolve) => (timer = setTimeout(() => resolve(replay.outcome), patience)));
      return Promise.race([replay.finished, waited]).finally(() => clearTimeout(timer));
    },
    close: () => {
      for (const client of server.clients) client.terminate();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}
