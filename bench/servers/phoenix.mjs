// The fan-out reference: a minimal Phoenix-protocol server in plain Node (benchmarks.md in the
// shared docs), serving the todo list the benchmark clients drive. Joins get `state:change`;
// each `lvs_evt:addTodo` appends to the topic's list (dropping the oldest past the join's
// `limit`), is acknowledged to its sender, and its `state:patch` is encoded once and sent as a
// Phoenix broadcast (null join_ref) to every member. No handler sandbox, no storage, no reply
// events, no validation: what a fan-out costs at the least.
// --hold-writes: each socket's writes wait for the end of the event loop's turn and leave in one
// write, as @livestate/server's do (its TurnBatch): the same transport, to tell it from the rest.
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { WebSocketServer } from 'ws';
import { announce, controlRequests } from './control.mjs';

const { values } = parseArgs({ options: { 'hold-writes': { type: 'boolean', default: false } } });
const held = new Set();
function holdUntilTurnEnds(socket) {
  if (held.has(socket)) return;
  if (held.size === 0) {
    setImmediate(() => {
      const sockets = [...held];
      held.clear();
      for (const each of sockets) each.uncork();
    });
  }
  socket.cork();
  held.add(socket);
}

/** topic -> { state, version, members: Set<ws> } */
const topics = new Map();
const frame = (joinRef, ref, topic, event, payload) => JSON.stringify([joinRef, ref, topic, event, payload]);

function join(ws, [joinRef, ref, topic, , params]) {
  let entry = topics.get(topic);
  if (!entry) {
    const count = Number(params.prefill ?? 0);
    const todos = Array.from({ length: count }, (_, i) => ({ id: i + 1, text: `todo number ${i + 1}`, done: false }));
    entry = { state: { todos, nextId: count + 1, limit: Number(params.limit ?? 0) }, version: 0, members: new Set() };
    topics.set(topic, entry);
  }
  entry.members.add(ws);
  ws.joined.add(entry);
  ws.send(frame(joinRef, ref, topic, 'phx_reply', { status: 'ok', response: {} }));
  ws.send(frame(joinRef, null, topic, 'state:change', { state: entry.state, version: entry.version }));
}

function addTodo(ws, [joinRef, ref, topic, , { todo }]) {
  const entry = topics.get(topic);
  const { state } = entry;
  const added = { id: state.nextId++, text: todo, done: false };
  const patch = [{ op: 'add', path: `/todos/${state.todos.length}`, value: added }];
  state.todos.push(added);
  if (state.limit > 0 && state.todos.length > state.limit) {
    state.todos.shift();
    patch.push({ op: 'remove', path: '/todos/0' });
  }
  patch.push({ op: 'replace', path: '/nextId', value: state.nextId });
  const version = ++entry.version;
  ws.send(frame(joinRef, ref, topic, 'phx_reply', { status: 'ok', response: { version } }));
  const broadcast = frame(null, null, topic, 'state:patch', { patch, version });
  for (const member of entry.members) member.send(broadcast);
}

const http = createServer(controlRequests);
new WebSocketServer({ server: http, path: '/socket/websocket' }).on('connection', (ws, request) => {
  ws.joined = new Set();
  if (values['hold-writes']) {
    const send = ws.send.bind(ws);
    ws.send = (data) => (holdUntilTurnEnds(request.socket), send(data));
  }
  ws.on('message', (data) => {
    const message = JSON.parse(data.toString());
    const [, ref, topic, event] = message;
    if (event === 'phx_join') join(ws, message);
    else if (event === 'lvs_evt:addTodo') addTodo(ws, message);
    else if (event === 'heartbeat') ws.send(frame(null, ref, topic, 'phx_reply', { status: 'ok', response: {} }));
  });
  ws.on('close', () => ws.joined.forEach((entry) => entry.members.delete(ws)));
});
http.listen(0, '127.0.0.1', () => announce(http));
