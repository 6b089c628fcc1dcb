// The transport ceilings: a bare `ws` server that echoes each message to its sender
// (--mode echo) or sends it to every client (--mode broadcast).
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { WebSocketServer } from 'ws';
import { announce, controlRequests } from './control.mjs';

const { values } = parseArgs({ options: { mode: { type: 'string', default: 'echo' } } });
const http = createServer(controlRequests);
const wss = new WebSocketServer({ server: http });
wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => {
    if (values.mode === 'echo') ws.send(data, { binary: isBinary });
    else for (const client of wss.clients) client.send(data, { binary: isBinary });
  });
});
http.listen(0, '127.0.0.1', () => announce(http));
