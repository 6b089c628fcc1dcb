// Checks the load generator against the official phoenix.js client once: the same
// closed loop (N = 1, one shared topic) driven by each, against the same server.
// The generator should see the same server behaviour while using far less CPU.
import { Socket } from 'phoenix';
import { WebSocket } from 'ws';
import { BenchClient } from './load/client.mjs';
import { pinGenerator, startServer } from './load/processes.mjs';
import { median, quick, report, runIdentity } from './measure.mjs';

const runMs = quick ? 1500 : 5000;
const repetitions = quick ? 1 : 3;

async function loop(send) {
  const roundTrips = [];
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  while (performance.now() - start < runMs) {
    const sent = performance.now();
    await send(roundTrips.length);
    roundTrips.push(performance.now() - sent);
  }
  const elapsed = performance.now() - start;
  const cpu = process.cpuUsage(cpu0);
  return { eventsPerSecond: roundTrips.length / (elapsed / 1000), p50Ms: median(roundTrips), generatorCore: (cpu.user + cpu.system) / 1000 / elapsed };
}

async function withGenerator(server, rep) {
  const client = await BenchClient.connect(server.port, 'phoenix', 0);
  await client.join(`bench:check-raw-${rep}`, { limit: 100 });
  const result = await loop((sequence) => client.roundTrip(sequence));
  client.close();
  return result;
}

async function withPhoenixJs(server, rep) {
  const socket = new Socket(`ws://127.0.0.1:${server.port}/socket`, { transport: WebSocket });
  socket.connect();
  const channel = socket.channel(`bench:check-phoenix-${rep}`, { limit: 100 });
  let waiting;
  channel.on('state:patch', ({ patch }) => {
    if (waiting && patch.some((operation) => operation.value?.text === waiting.marker)) waiting.resolve();
  });
  await new Promise((resolve) => channel.join().receive('ok', resolve));
  const result = await loop(
    (sequence) =>
      new Promise((resolve) => {
        waiting = { marker: `p-${sequence}`, resolve };
        channel.push('lvs_evt:addTodo', { todo: waiting.marker });
      }),
  );
  socket.disconnect();
  return result;
}

pinGenerator();
const samples = { generator: [], 'phoenix.js': [] };
for (let rep = 0; rep < repetitions; rep++) {
  const server = await startServer('livestate js');
  samples.generator.push(await withGenerator(server, rep));
  samples['phoenix.js'].push(await withPhoenixJs(server, rep));
  await server.stop();
}
const rows = Object.entries(samples).map(([client, runs]) => ({
  client,
  eventsPerSecond: median(runs.map((run) => run.eventsPerSecond)),
  p50Ms: median(runs.map((run) => run.p50Ms)),
  generatorCore: median(runs.map((run) => run.generatorCore)),
}));
await report(
  'generator-check',
  runIdentity(),
  rows,
  [
    '### Load generator vs phoenix.js (N = 1, LiveState with the JavaScript handler)',
    '',
    '| client | events/s | p50 ms | client CPU (share of its core) |',
    '|---|---:|---:|---:|',
    ...rows.map((row) => `| ${row.client} | ${Math.round(row.eventsPerSecond).toLocaleString('en')} | ${row.p50Ms.toFixed(2)} | ${Math.round(row.generatorCore * 100)}% |`),
  ].join('\n'),
);
