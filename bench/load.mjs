// Load benchmarks: shared topic, private topics, state size, idle connections, faults, cluster,
// durability (memory against SQLite storage) and resume (patches against the whole state), each
// against LiveState (todo handler in WebAssembly and in JavaScript) and raw `ws` baselines
// measured in the same run. Runs are interleaved (repetition → target → N), bounded in
// time and count; every figure is a median over repetitions.
import { startAttackers } from './load/attackers.mjs';
import { BenchClient } from './load/client.mjs';
import { cpuMicrosOf, machineBusyMicros, pinGenerator, pinServer, pinned, startServer } from './load/processes.mjs';
import { RedisServer } from '../packages/server/build/test/support/redis-server.js';
import { median, quick, report, runIdentity } from './measure.mjs';
import { todoHandler } from './handlers/todo.mjs';

const repetitions = quick ? 1 : 3;
const runMs = quick ? 1500 : 5000;
const percentile = (values, p) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((values.length * p) / 100))];

/** Connects (and joins) `count` clients, 100 at a time; each one's connect + join time goes to `latencies`. */
async function connectClients(server, count, topicOf, params, latencies = []) {
  const clients = [];
  for (let start = 0; start < count; start += 100) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(100, count - start) }, async (_, i) => {
        const began = performance.now();
        const client = await BenchClient.connect(server.port, server.protocol, start + i);
        if (server.protocol === 'phoenix') await client.join(topicOf(start + i), params);
        latencies.push(performance.now() - began);
        return client;
      }),
    );
    clients.push(...batch);
  }
  return clients;
}

/** Every client sends an event and waits for its own item to come back, for `runMs` or `maxEvents`. */
async function closedLoop(server, clients, { maxEvents = Infinity } = {}) {
  const bytes0 = clients.reduce((sum, client) => sum + client.bytesReceived, 0);
  const messages0 = clients.reduce((sum, client) => sum + client.messagesReceived, 0);
  const [serverCpu0, busy0, generator0, start] = [server.cpuMicros(), machineBusyMicros(), process.cpuUsage(), performance.now()];
  const roundTrips = [];
  let stopped = false;
  const timer = setTimeout(() => (stopped = true), runMs);
  await Promise.all(
    clients.map(async (client) => {
      for (let sequence = 0; !stopped && roundTrips.length < maxEvents; sequence++) {
        const sent = performance.now();
        await client.roundTrip(sequence);
        roundTrips.push(performance.now() - sent);
      }
    }),
  );
  clearTimeout(timer);
  const elapsedMicros = (performance.now() - start) * 1000;
  const serverMicros = server.cpuMicros() - serverCpu0;
  const generator = process.cpuUsage(generator0);
  const generatorMicros = generator.user + generator.system;
  const events = roundTrips.length;
  return {
    events,
    eventsPerSecond: events / (elapsedMicros / 1e6),
    p50Ms: percentile(roundTrips, 50),
    p99Ms: percentile(roundTrips, 99),
    serverCpuMicrosPerEvent: serverMicros / events,
    bytesPerEvent: (clients.reduce((sum, client) => sum + client.bytesReceived, 0) - bytes0) / events,
    bytesPerDelivery:
      (clients.reduce((sum, client) => sum + client.bytesReceived, 0) - bytes0) /
      (clients.reduce((sum, client) => sum + client.messagesReceived, 0) - messages0),
    generatorCore: generatorMicros / elapsedMicros,
    otherCores: Math.max(0, (machineBusyMicros() - busy0 - serverMicros - generatorMicros) / elapsedMicros),
  };
}

/**
 * Runs `measure(server, rep, target)` for each target in each repetition, on servers started
 * afresh for each target and repetition by `start(target)` (by default the target's process).
 */
async function interleaved(targets, measure, start = (target) => startServer(target)) {
  const results = {};
  for (let rep = 0; rep < repetitions; rep++) {
    for (const target of targets) {
      const server = await start(target);
      try {
        for (const [key, value] of await measure(server, rep, target)) ((results[key] ??= {})[target] ??= []).push(value);
      } finally {
        await server.stop();
      }
      process.stderr.write(`  ${target}, repetition ${rep + 1}/${repetitions}\n`);
    }
  }
  return results;
}

/** Medians of every numeric field, plus the run flags. */
function summarize(samples) {
  const summary = {};
  for (const key of Object.keys(samples[0])) summary[key] = median(samples.map((sample) => sample[key]));
  summary.generatorBound = summary.generatorCore > 0.9;
  summary.disturbed = summary.otherCores > 0.3;
  return summary;
}

const fmt = (value, digits = 0) => (value === undefined ? '–' : value.toLocaleString('en', { maximumFractionDigits: digits }));
const flags = (row) => `${row.generatorBound ? ' ⚑gen' : ''}${row.disturbed ? ' ⚑noisy' : ''}`;

/** For each target, a closed loop of each of `sizes` clients on one topic (`bench:<name>-<n>-<rep>`, a list capped at 100). */
function oneTopicClosedLoops(targets, sizes, name) {
  return interleaved(targets, async (server, rep) => {
    const measured = [];
    for (const n of sizes) {
      const clients = await connectClients(server, n, () => `bench:${name}-${n}-${rep}`, { limit: 100 });
      measured.push([n, await closedLoop(server, clients)]);
      clients.forEach((client) => client.close());
    }
    return measured;
  });
}

async function sharedTopic() {
  const sizes = [1, 50, 200];
  const targets = ['livestate wasm', 'livestate js', 'phoenix reference', 'phoenix reference, writes held', 'raw broadcast', 'raw echo'];
  const results = await oneTopicClosedLoops(targets, sizes, 'shared');
  const rows = sizes.flatMap((n) => targets.map((target) => ({ n, target, ...summarize(results[n][target]) })));
  const at = (n, target) => rows.find((row) => row.n === n && row.target === target);
  const table = [
    '| N | server | events/s | p50 / p99 ms | server CPU µs/event | bytes/event | bytes/delivery | generator core |',
    '|---:|---|---:|---:|---:|---:|---:|---:|',
    ...rows.map((row) =>
      `| ${row.n} | ${row.target} | ${fmt(row.eventsPerSecond)} | ${fmt(row.p50Ms, 2)} / ${fmt(row.p99Ms, 2)} | ${fmt(row.serverCpuMicrosPerEvent)} | ${fmt(row.bytesPerEvent)} | ${fmt(row.bytesPerDelivery)} | ${fmt(row.generatorCore * 100)}%${flags(row)} |`),
  ].join('\n');
  const ratios = ['livestate wasm', 'livestate js'].map((target) => {
    const [ours, broadcast] = [at(50, target), at(50, 'raw broadcast')];
    return `- N = 50, ${target}: ${(ours.eventsPerSecond / broadcast.eventsPerSecond).toFixed(2)}× the broadcast baseline's events/s (goal ≥ 0.8×), ${(ours.serverCpuMicrosPerEvent / broadcast.serverCpuMicrosPerEvent).toFixed(2)}× its server CPU per event (goal ≤ 1.25×)`;
  });
  const [wasm, js, reference, held] = ['livestate wasm', 'livestate js', 'phoenix reference', 'phoenix reference, writes held'].map((target) => at(50, target));
  ratios.push(
    `- N = 50, livestate js: ${(js.serverCpuMicrosPerEvent / reference.serverCpuMicrosPerEvent).toFixed(2)}× the Phoenix reference's server CPU per event (goal ≤ 1×), ${(js.serverCpuMicrosPerEvent / held.serverCpuMicrosPerEvent).toFixed(2)}× that of the reference holding its writes as LiveState does; livestate wasm: ${(wasm.serverCpuMicrosPerEvent / js.serverCpuMicrosPerEvent).toFixed(2)}× livestate js's (goal ≤ 1.1×)`,
  );
  return { name: 'shared-topic', rows, markdown: `### Shared topic (closed loop, one topic, list capped at 100)\n\n${table}\n\n${ratios.join('\n')}` };
}

async function privateTopics() {
  const n = 50;
  const targets = ['livestate wasm', 'livestate wasm classic', 'livestate js', 'raw echo'];
  const results = await interleaved(targets, async (server, rep) => {
    const clients = await connectClients(server, n, (i) => `bench:private-${rep}-${i}`, { limit: 100 });
    // One event per client first, for every target alike: what is measured is the steady state,
    // not each topic's first event (a resident module's instance for the topic is created then).
    await Promise.all(clients.map((client) => client.roundTrip(-1)));
    const result = await closedLoop(server, clients);
    clients.forEach((client) => client.close());
    return [[n, result]];
  });
  const rows = targets.map((target) => ({ n, target, ...summarize(results[n][target]) }));
  const [wasm, classic, js, echo] = rows;
  const table = [
    '| server | events/s | p50 / p99 ms | server CPU µs/event | bytes/event | generator core |',
    '|---|---:|---:|---:|---:|---:|',
    ...rows.map((row) =>
      `| ${row.target} | ${fmt(row.eventsPerSecond)} | ${fmt(row.p50Ms, 2)} / ${fmt(row.p99Ms, 2)} | ${fmt(row.serverCpuMicrosPerEvent)} | ${fmt(row.bytesPerEvent)} | ${fmt(row.generatorCore * 100)}%${flags(row)} |`),
  ].join('\n');
  const notes = [
    `- WebAssembly (resident) server CPU per event: ${(wasm.serverCpuMicrosPerEvent / js.serverCpuMicrosPerEvent).toFixed(2)}× the JavaScript handler's (goal ≤ 2×); the classic convention: ${(classic.serverCpuMicrosPerEvent / js.serverCpuMicrosPerEvent).toFixed(2)}×`,
    `- to the raw echo baseline: WebAssembly ${(wasm.serverCpuMicrosPerEvent / echo.serverCpuMicrosPerEvent).toFixed(1)}×, JavaScript ${(js.serverCpuMicrosPerEvent / echo.serverCpuMicrosPerEvent).toFixed(1)}× the server CPU per event`,
  ];
  return { name: 'private-topics', rows, markdown: `### Private topics (N = 50 clients, one topic each)\n\n${table}\n\n${notes.join('\n')}` };
}

/**
 * The floor for passing a state in and out as JSON text: one parse plus one stringify of the
 * todo handler's state of `size` todos, in µs. The fastest of 20 or more rounds: a floor is
 * the cost undisturbed, and on a shared machine a median of a few rounds can catch other
 * processes or a collection.
 */
function jsonFloorMicros(size) {
  const text = JSON.stringify(todoHandler.init('', { prefill: size, limit: size }));
  const rounds = Math.max(20, Math.min(200, Math.floor(2_000_000 / (text.length + 1000))));
  let fastest = Infinity;
  for (let round = 0; round < rounds; round++) {
    const start = performance.now();
    JSON.stringify(JSON.parse(text));
    fastest = Math.min(fastest, (performance.now() - start) * 1000);
  }
  return fastest;
}

async function stateSize() {
  const sizes = quick ? [0, 1_000, 10_000] : [0, 1_000, 10_000, 100_000];
  const targets = ['livestate wasm', 'livestate wasm classic', 'livestate js'];
  const results = await interleaved(targets, async (server, rep) => {
    const measured = [];
    for (const size of sizes) {
      // limit: the list stays at its size (it drops its oldest todo as each event adds one).
      const clients = await connectClients(server, 1, () => `bench:size-${size}-${rep}`, { prefill: size, limit: Math.max(size, 1) });
      await clients[0].roundTrip(-1);
      measured.push([size, await closedLoop(server, clients, { maxEvents: 5_000 })]);
      clients.forEach((client) => client.close());
    }
    return measured;
  });
  const floors = new Map(sizes.map((size) => [size, jsonFloorMicros(size)]));
  const rows = sizes.flatMap((size) => targets.map((target) => ({ size, target, jsonFloorMicros: floors.get(size), ...summarize(results[size][target]) })));
  const at = (size, target) => rows.find((row) => row.size === size && row.target === target);
  const table = [
    '| todos | server | server CPU µs/event | × one JSON parse + stringify of the state | round trip p50 ms | bytes/event (reply event + patch) |',
    '|---:|---|---:|---:|---:|---:|',
    ...rows.map(
      (row) =>
        `| ${fmt(row.size)} | ${row.target} | ${fmt(row.serverCpuMicrosPerEvent)} | ${row.size === 0 ? '–' : `${(row.serverCpuMicrosPerEvent / row.jsonFloorMicros).toFixed(2)}×`} | ${fmt(row.p50Ms, 2)} | ${fmt(row.bytesPerEvent)} |`,
    ),
  ].join('\n');
  const largest = sizes.at(-1);
  const notes = targets.map(
    (target) => `- ${target}: ${(at(largest, target).serverCpuMicrosPerEvent / at(1_000, target).serverCpuMicrosPerEvent).toFixed(1)}× the CPU per event at ${fmt(largest)} todos as at 1,000; bytes per event ${fmt(at(0, target).bytesPerEvent)} at 0 todos, ${fmt(at(largest, target).bytesPerEvent)} at ${fmt(largest)}`,
  );
  notes.push(
    `- one JSON parse + stringify of the state (in the generator process, after the runs, fastest of 20 or more): ${sizes.filter((size) => size > 0).map((size) => `${fmt(floors.get(size))} µs at ${fmt(size)} todos`).join(', ')}; ` +
      `livestate wasm classic at ${fmt(largest)} todos: ${(at(largest, 'livestate wasm classic').serverCpuMicrosPerEvent / floors.get(largest)).toFixed(2)}× it (goal ≤ 1.3×)`,
    `- resident convention (livestate wasm): ${(at(largest, 'livestate wasm').serverCpuMicrosPerEvent / at(1_000, 'livestate wasm').serverCpuMicrosPerEvent).toFixed(2)}× the CPU per event at ${fmt(largest)} todos as at 1,000 (goal ≤ 3×)`,
  );
  return { name: 'state-size', rows, markdown: `### State size (one client, list pre-filled and held at its size)\n\n${table}\n\n${notes.join('\n')}` };
}

async function idleConnections() {
  const counts = quick ? [1_000] : [1_000, 10_000];
  const targets = ['livestate js', 'raw echo'];
  const results = await interleaved(targets, async (server, rep) => {
    const measured = [];
    for (const count of counts) {
      const before = await server.memory();
      const latencies = [];
      const clients = await connectClients(server, count, () => `bench:idle-${rep}`, {}, latencies);
      const after = await server.memory();
      measured.push([count, { bytesPerConnection: (after - before) / count, joinP50Ms: percentile(latencies, 50), joinP99Ms: percentile(latencies, 99) }]);
      clients.forEach((client) => client.close());
    }
    return measured;
  });
  const rows = counts.flatMap((count) => targets.map((target) => ({ count, target, ...summarize(results[count][target]) })));
  const table = [
    '| connections | server | memory per connection | connect + join p50 / p99 ms (100 at a time) |',
    '|---:|---|---:|---:|',
    ...rows.map((row) => `| ${fmt(row.count)} | ${row.target} | ${fmt(row.bytesPerConnection / 1024, 1)} KB | ${fmt(row.joinP50Ms, 2)} / ${fmt(row.joinP99Ms, 2)} |`),
  ].join('\n');
  return { name: 'idle-connections', rows, markdown: `### Idle connections (joined and silent; RSS after GC; goal < 16 KB each)\n\n${table}` };
}

/** Who joins the well-behaved clients in each faults run: no one, each kind of attacker alone, or all of them. */
const ATTACKS = {
  calm: undefined,
  'malformed frames': { malformed: 2, runaway: 0, neverReading: 0 },
  'runaway events': { malformed: 0, runaway: 1, neverReading: 0 },
  'never-reading sockets': { malformed: 0, runaway: 0, neverReading: 2 },
  'all attackers': { malformed: 2, runaway: 1, neverReading: 2 },
};

async function faults() {
  const n = 50;
  const handlers = ['livestate js', 'livestate wasm'];
  const targets = handlers.flatMap((handler) => Object.keys(ATTACKS).map((attack) => `${handler}, ${attack}`));
  /** [handler, attack] of a target. */
  const parts = (target) => target.split(', ');
  const results = await interleaved(
    targets,
    async (server, rep, target) => {
      const topic = `bench:faults-${rep}`;
      const clients = await connectClients(server, n, () => topic, { limit: 100 });
      const attack = ATTACKS[parts(target)[1]];
      const attackers = attack && startAttackers(server.port, { topic, rep, ...attack });
      await attackers?.started;
      const patchesBefore = clients.map((client) => client.patchesReceived);
      const result = await closedLoop(server, clients);
      const attacks = await attackers?.stop();
      await Promise.all(clients.map((client) => client.sync()));
      // Every member of the one topic should have received a patch for every event.
      const lost = clients.reduce((sum, client, i) => sum + result.events - (client.patchesReceived - patchesBefore[i]), 0);
      const rssMiB = (await server.memory()) / 2 ** 20;
      clients.forEach((client) => client.close());
      return [[n, { ...result, lost, rssMiB, ...attacks }]];
    },
    (target) => startServer(`${parts(target)[0]} --faults`),
  );
  const rows = targets.map((target) => ({ n, target, ...summarize(results[n][target]), lost: Math.max(...results[n][target].map((sample) => sample.lost)) }));
  const at = (target) => rows.find((row) => row.target === target);
  const table = [
    '| server, attackers | events/s | p50 / p99 ms | p99 × calm | server CPU µs/event | server RSS MiB | patches lost | malformed frames (oversized) | runaway events | never-reading sockets dropped | generator core |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((row) => {
      const calm = at(`${parts(row.target)[0]}, calm`);
      return `| ${row.target} | ${fmt(row.eventsPerSecond)} | ${fmt(row.p50Ms, 2)} / ${fmt(row.p99Ms, 2)} | ${(row.p99Ms / calm.p99Ms).toFixed(2)}× | ${fmt(row.serverCpuMicrosPerEvent)} | ${fmt(row.rssMiB)} | ${fmt(row.lost)} | ${fmt(row.malformedFrames)} (${fmt(row.oversizedFrames)}) | ${fmt(row.runawayEvents)} | ${fmt(row.slowSocketsDropped)} | ${fmt(row.generatorCore * 100)}%${flags(row)} |`;
    }),
  ].join('\n');
  const ratios = handlers.map((handler) => {
    const [calm, attacked] = [at(`${handler}, calm`), at(`${handler}, all attackers`)];
    return `- ${handler}, all attackers: p99 ${(attacked.p99Ms / calm.p99Ms).toFixed(2)}× the calm run's (goal ≤ 2×), events/s ${(attacked.eventsPerSecond / calm.eventsPerSecond).toFixed(2)}×; patches lost ${attacked.lost} (goal 0)`;
  });
  return { name: 'faults', rows, markdown: `### Faults (N = ${n} well-behaved clients on one topic; attackers alongside)\n\n${table}\n\n${ratios.join('\n')}` };
}

/**
 * `count` livestate nodes (JavaScript handler) on one fresh redis-server pinned with them, as one
 * server: its CPU is the nodes' and Redis's together; clients connect to `nodes[i]`.
 */
async function startCluster(count) {
  const redis = await RedisServer.start();
  pinServer(redis.pid);
  const nodes = await Promise.all(Array.from({ length: count }, () => startServer('livestate js', ['--redis', redis.url])));
  const redisCpuMicros = () => cpuMicrosOf(redis.pid);
  return {
    nodes,
    redisCpuMicros,
    cpuMicros: () => nodes.reduce((sum, node) => sum + node.cpuMicros(), 0) + redisCpuMicros(),
    stop: async () => {
      await Promise.all(nodes.map((node) => node.stop()));
      await redis.close();
    },
  };
}

/** How many cluster nodes each target's clients are spread over; none: one process without Redis. */
const CLUSTER_TARGETS = { 'one process, no Redis': 0, 'cluster, all on 1 node': 1, 'cluster, spread over 3 nodes': 3 };

async function cluster() {
  const n = 30;
  const targets = Object.keys(CLUSTER_TARGETS);
  const shapes = { 'shared topic': (rep) => `bench:cluster-shared-${rep}`, 'private topics': (rep, i) => `bench:cluster-private-${rep}-${i}` };
  const start = async (target) => {
    if (CLUSTER_TARGETS[target] > 0) return startCluster(CLUSTER_TARGETS[target]);
    const server = await startServer('livestate js');
    return { ...server, nodes: [server], redisCpuMicros: () => 0 };
  };
  const results = await interleaved(
    targets,
    async (server, rep) => {
      const measured = [];
      for (const [shape, topicOf] of Object.entries(shapes)) {
        const clients = await Promise.all(
          Array.from({ length: n }, async (_, i) => {
            const client = await BenchClient.connect(server.nodes[i % server.nodes.length].port, 'phoenix', i);
            await client.join(topicOf(rep, i), { limit: 100 });
            return client;
          }),
        );
        const redis0 = server.redisCpuMicros();
        const result = await closedLoop(server, clients);
        measured.push([shape, { ...result, redisCpuMicrosPerEvent: (server.redisCpuMicros() - redis0) / result.events }]);
        clients.forEach((client) => client.close());
      }
      return measured;
    },
    start,
  );
  const rows = Object.keys(shapes).flatMap((shape) => targets.map((target) => ({ shape, target, ...summarize(results[shape][target]) })));
  const at = (shape, target) => rows.find((row) => row.shape === shape && row.target === target);
  const table = [
    `| workload | ${n} clients | events/s | p50 / p99 ms | CPU µs/event: nodes + Redis = total | generator core |`,
    '|---|---|---:|---:|---:|---:|',
    ...rows.map((row) => {
      const nodes = row.serverCpuMicrosPerEvent - row.redisCpuMicrosPerEvent;
      return `| ${row.shape} | ${row.target} | ${fmt(row.eventsPerSecond)} | ${fmt(row.p50Ms, 2)} / ${fmt(row.p99Ms, 2)} | ${fmt(nodes)} + ${fmt(row.redisCpuMicrosPerEvent)} = ${fmt(row.serverCpuMicrosPerEvent)} | ${fmt(row.generatorCore * 100)}%${flags(row)} |`;
    }),
  ].join('\n');
  const notes = Object.keys(shapes).map((shape) => {
    const [alone, one, three] = targets.map((target) => at(shape, target));
    return `- ${shape}, spread over 3 nodes against all on 1 node: p50 +${fmt(three.p50Ms - one.p50Ms, 2)} ms (goal ≤ 1 ms), total CPU per event ${(three.serverCpuMicrosPerEvent / one.serverCpuMicrosPerEvent).toFixed(2)}× (goal ≤ 1.5×); all on 1 node against one process without Redis: p50 +${fmt(one.p50Ms - alone.p50Ms, 2)} ms, ${(one.serverCpuMicrosPerEvent / alone.serverCpuMicrosPerEvent).toFixed(2)}× the CPU per event`;
  });
  return {
    name: 'cluster',
    rows,
    markdown: `### Cluster (${n} clients, JavaScript handler, list capped at 100; nodes and Redis pinned to one core)\n\n${table}\n\n${notes.join('\n')}`,
  };
}

async function durability() {
  const sizes = [1, 50];
  const targets = ['livestate js', 'livestate js, sqlite', 'livestate js, sqlite fsync'];
  const results = await oneTopicClosedLoops(targets, sizes, 'durable');
  const storageOf = (target) => ({ 'livestate js': 'memory', 'livestate js, sqlite': 'SQLite', 'livestate js, sqlite fsync': 'SQLite + fsync' })[target];
  const rows = sizes.flatMap((n) => targets.map((target) => ({ n, target, storage: storageOf(target), ...summarize(results[n][target]) })));
  const at = (n, target) => rows.find((row) => row.n === n && row.target === target);
  const table = [
    '| N | storage | events/s | p50 / p99 ms | server CPU µs/event | × memory | generator core |',
    '|---:|---|---:|---:|---:|---:|---:|',
    ...rows.map((row) =>
      `| ${row.n} | ${row.storage} | ${fmt(row.eventsPerSecond)} | ${fmt(row.p50Ms, 2)} / ${fmt(row.p99Ms, 2)} | ${fmt(row.serverCpuMicrosPerEvent)} | ${(row.serverCpuMicrosPerEvent / at(row.n, 'livestate js').serverCpuMicrosPerEvent).toFixed(2)}× | ${fmt(row.generatorCore * 100)}%${flags(row)} |`),
  ].join('\n');
  const ratio = at(50, 'livestate js, sqlite').serverCpuMicrosPerEvent / at(50, 'livestate js').serverCpuMicrosPerEvent;
  const notes = [`- N = 50: SQLite storage costs ${((ratio - 1) * 100).toFixed(0)}% more server CPU per event than memory storage (goal ≤ 15%)`];
  return { name: 'durability', rows, markdown: `### Durability (closed loop, one topic, JavaScript handler, list capped at 100)\n\n${table}\n\n${notes.join('\n')}` };
}

async function resume() {
  const todos = 10_000;
  const samples = quick ? 5 : 20;
  const results = await interleaved(['livestate js'], async (server, rep) => {
    const topic = `bench:resume-${rep}`;
    const params = { prefill: todos, limit: todos };
    const [writer] = await connectClients(server, 1, () => topic, params);
    const measured = [];
    for (let sample = 0; sample < samples; sample++) {
      // A full join: the whole state.
      const full = await BenchClient.connect(server.port, server.protocol, `full-${sample}`);
      let began = performance.now();
      const change = JSON.parse(await full.join(topic, params));
      const fullMs = performance.now() - began;
      const fullBytes = full.bytesReceived;
      full.close();
      // It misses one event, then comes back with its position: the one patch.
      await writer.roundTrip(sample);
      const back = await BenchClient.connect(server.port, server.protocol, `back-${sample}`);
      began = performance.now();
      const { epoch, version } = change[4];
      const first = await back.join(topic, { ...params, lvs_resume: { epoch, version } }, '"state:');
      const resumeMs = performance.now() - began;
      if (!first.includes('"state:patch"')) throw new Error(`the resume got the whole state: ${first.slice(0, 200)}`);
      measured.push({ fullBytes, fullMs, resumeBytes: back.bytesReceived, resumeMs });
      back.close();
    }
    writer.close();
    return [[todos, { fullBytes: median(measured.map((m) => m.fullBytes)), fullMs: median(measured.map((m) => m.fullMs)), resumeBytes: median(measured.map((m) => m.resumeBytes)), resumeMs: median(measured.map((m) => m.resumeMs)) }]];
  });
  const row = { todos, ...summarize(results[todos]['livestate js']) };
  const table = [
    '| todos | join with the whole state: bytes, ms | resume after missing 1 event: bytes, ms | bytes ratio |',
    '|---:|---:|---:|---:|',
    `| ${fmt(todos)} | ${fmt(row.fullBytes)}, ${fmt(row.fullMs, 2)} | ${fmt(row.resumeBytes)}, ${fmt(row.resumeMs, 2)} | ${((row.resumeBytes / row.fullBytes) * 100).toFixed(3)}% |`,
  ].join('\n');
  const notes = [`- resume: ${((row.resumeBytes / row.fullBytes) * 100).toFixed(3)}% of the full state's bytes (goal ≤ 1%), ${(row.resumeMs / row.fullMs).toFixed(2)}× its time (connect + join, until the state or the patch arrives)`];
  return { name: 'resume', rows: [row], markdown: `### Resume (a client that missed 1 event on a topic of ${fmt(todos)} todos, against a join with the whole state)\n\n${table}\n\n${notes.join('\n')}` };
}

const workloads = {
  'shared-topic': sharedTopic,
  'private-topics': privateTopics,
  'state-size': stateSize,
  'idle-connections': idleConnections,
  faults,
  cluster,
  durability,
  resume,
};
const only = process.argv.find((arg) => arg.startsWith('--only='))?.slice('--only='.length);
if (only && !workloads[only]) throw new Error(`--only=${only}: expected one of ${Object.keys(workloads).join(', ')}`);

pinGenerator();
const identity = { ...runIdentity(), pinned, repetitions, runMs };
for (const workload of only ? [workloads[only]] : Object.values(workloads)) {
  process.stderr.write(`${workload.name}\n`);
  const { name, rows, markdown } = await workload();
  await report(`load-${name}`, identity, rows, markdown);
}
console.log(`\n${pinned ? 'Server pinned to CPU 0, load generator to CPU 1.' : 'Not pinned (fewer than 2 cores or no taskset).'} ⚑gen: the generator used over 90% of its core, so the figure is a lower bound for the server. ⚑noisy: other processes used over 30% of a core meanwhile.`);
