import { parseArgs } from 'node:util';
import type { Scope } from '../channels/route.js';
import type { LiveStateServerOptions } from '../server.js';
import { ANY_ORIGIN, parseOrigin } from './origin-policy.js';
import { DEFAULT_REQUEST_TIMEOUT_MS } from '../transport/request-timeouts.js';

/**
 * Server limits given on the command line, each flag to its server option: passed through as
 * they are, so an unset one keeps the server's own default.
 */
const LIMIT_FLAGS = {
  'max-frame-bytes': 'maxFrameBytes',
  'max-state-bytes': 'maxStateBytes',
  'max-buffered-bytes': 'maxBufferedBytes',
  'max-channels': 'maxChannelsPerSocket',
  'max-pending-events': 'maxPendingEvents',
  'max-topic-bytes': 'maxTopicBytes',
  'max-states': 'maxStates',
  'unload-after-ms': 'unloadAfterMs',
  'connection-grace-ms': 'connectionGraceMs',
} as const satisfies Record<string, keyof LiveStateServerOptions>;

type LimitFlag = keyof typeof LIMIT_FLAGS;
export type ServerLimits = Partial<Record<(typeof LIMIT_FLAGS)[LimitFlag], number>>;
/** Limits that may be 0: a delay of none. */
const ZERO_ALLOWED: ReadonlySet<LimitFlag> = new Set(['unload-after-ms', 'connection-grace-ms']);

export interface ChannelOption {
  topic: string;
  module: string;
  scope?: Scope;
  timeoutMs?: number;
  maxMemoryMiB?: number;
}

export interface ServeOptions {
  channels: ChannelOption[];
  port: number;
  host: string;
  path: string;
  scope: Scope;
  timeoutMs: number;
  maxMemoryMiB: number;
  staticDir: string | undefined;
  watch: boolean;
  requestTimeoutMs: number;
  /** Normalized origins, or `*`; empty for the default policy. */
  origins: string[];
  /** Run as a node of a cluster on this Redis. */
  redis: string | undefined;
  leaseSeconds: number;
  /** The SQLite file topic states are kept in; `undefined` keeps them in memory only (`--memory`). */
  dataFile: string | undefined;
  fsync: boolean;
  limits: ServerLimits;
}

export const SERVE_USAGE = `usage: livestate serve --channel '<topic-pattern>=<module.wasm>[,<option>=<value>...]' [--channel ...] [options]

Serves LiveState channels whose event handlers are WebAssembly modules: Extism plugins
(e.g. from livestate-guest) or components built by livestate-guest-js (<name>.component.wasm).

  --channel <spec>      a topic pattern (an exact topic, or a prefix ending in '*') and the
                        module that handles it; repeat for more channels. Per-channel options
                        follow the module after commas and override the defaults below:
                          scope=connection|topic, timeout-ms=<ms>, max-memory=<MiB>
                        e.g. --channel 'todo:*=todo.wasm,scope=topic,timeout-ms=500'
  --port <n>            the port to listen on; 0 picks a free one (default 4000, or $PORT)
  --host <address>      the address to listen on (default 127.0.0.1)
  --path <path>         where sockets connect (default /socket: ws://host:port/socket)
  --scope <scope>       connection: each join has its own state (default)
                        topic: one state per topic, shared by every member
  --timeout-ms <ms>     a handler call that runs longer is stopped (default 1000)
  --max-memory <MiB>    the most linear memory a handler instance may use (default 128)
  --origin <origin>     a site whose pages may connect, e.g. https://shop.example; repeat for
                        more; '*' allows any. Pages served by this server may always connect;
                        without --origin, so may pages from localhost (and no other site)
  --static <dir>        also serve the files in <dir> over HTTP on the same port
  --request-timeout-ms <ms>
                        a connection that has not sent a whole HTTP request in this time
                        gets 408 and is closed (default 10000)
  --data <file>         keep topic states in this SQLite file, so they survive restarts
                        (default ./livestate.db)
  --memory              keep states in memory only: a restart starts every topic afresh, and
                        past 10000 topics the one unused longest is forgotten
  --fsync               sync every commit to disk, so acknowledged events also survive a
                        power loss (by default they survive the server being killed)
  --no-watch            do not reload a module when its file changes
  --max-frame-bytes <n>     a larger frame closes its socket (1009) (default 1048576)
  --max-state-bytes <n>     the largest state, as JSON, an event may produce (default 1048576)
  --max-buffered-bytes <n>  a socket with more waiting to be sent is dropped (default 4194304)
  --max-channels <n>        channels one socket may join at once (default 100)
  --max-pending-events <n>  events of one channel waiting or running; more fail as busy
                            (default 100)
  --max-topic-bytes <n>     the longest topic a client may join, in bytes (default 1024)
  --max-states <n>          topic states held in memory; the least recently used idle ones
                            are unloaded first (default 10000)
  --unload-after-ms <ms>    a topic state with no members leaves memory after this long; it
                            stays stored (default 30000)
  --connection-grace-ms <ms>
                            a connection-scoped state is kept this long for its client to
                            reconnect and resume it (default 60000)
  --redis <url>         run as one node of a cluster that shares topic-scoped states through
                        this Redis, e.g. redis://10.0.0.5:6379 (default: one process, no Redis)
  --lease <seconds>     with --redis: how long a node owns a topic without renewing it, so how
                        soon another node takes over when it dies (default 5)
  -v, --version         print the version
  -h, --help            show this help

When ready it prints: LiveState listening on ws://<host>:<port><path>`;

export class UsageError extends Error {}

const positiveInteger = (value: string, what: string, allowZero = false): number => {
  const number = Number(value);
  if (!/^\d+$/.test(value) || (!allowZero && number === 0)) throw new UsageError(`${what} must be a ${allowZero ? 'non-negative' : 'positive'} integer, got "${value}"`);
  return number;
};

const positiveSeconds = (value: string, what: string): number => {
  const number = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || number === 0) throw new UsageError(`${what} must be a positive number of seconds, got "${value}"`);
  return number;
};

const scopeOf = (value: string, what: string): Scope => {
  if (value !== 'connection' && value !== 'topic') throw new UsageError(`${what} must be "connection" or "topic", got "${value}"`);
  return value;
};

function originOf(value: string): string {
  const origin = value === ANY_ORIGIN ? value : parseOrigin(value);
  if (!origin) throw new UsageError(`--origin expects '*' or an origin such as https://shop.example, got "${value}"`);
  return origin;
}

function parseChannel(spec: string): ChannelOption {
  const [binding, ...settings] = spec.split(',');
  const equals = binding!.indexOf('=');
  if (equals <= 0 || equals === binding!.length - 1) {
    throw new UsageError(`--channel expects '<topic-pattern>=<module.wasm>', got "${spec}"`);
  }
  const channel: ChannelOption = { topic: binding!.slice(0, equals), module: binding!.slice(equals + 1) };
  for (const setting of settings) {
    const [key, value = ''] = setting.split('=', 2);
    const what = `the channel option ${key}`;
    if (key === 'scope') channel.scope = scopeOf(value, what);
    else if (key === 'timeout-ms') channel.timeoutMs = positiveInteger(value, what);
    else if (key === 'max-memory') channel.maxMemoryMiB = positiveInteger(value, what);
    else throw new UsageError(`unknown channel option "${key}" in "${spec}" (expected scope, timeout-ms or max-memory)`);
  }
  return channel;
}

/** Parses `livestate serve` arguments; throws a {@link UsageError} that says what is wrong. */
export function parseServeOptions(args: string[], env: NodeJS.ProcessEnv = process.env): ServeOptions | 'help' | 'version' {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        channel: { type: 'string', multiple: true, default: [] },
        port: { type: 'string', default: env.PORT ?? '4000' },
        host: { type: 'string', default: '127.0.0.1' },
        path: { type: 'string', default: '/socket' },
        scope: { type: 'string', default: 'connection' },
        'timeout-ms': { type: 'string', default: '1000' },
        'max-memory': { type: 'string', default: '128' },
        origin: { type: 'string', multiple: true, default: [] },
        static: { type: 'string' },
        'request-timeout-ms': { type: 'string', default: String(DEFAULT_REQUEST_TIMEOUT_MS) },
        'no-watch': { type: 'boolean', default: false },
        redis: { type: 'string' },
        lease: { type: 'string', default: '5' },
        data: { type: 'string' },
        memory: { type: 'boolean', default: false },
        fsync: { type: 'boolean', default: false },
        ...limitArgs,
        help: { type: 'boolean', short: 'h', default: false },
        version: { type: 'boolean', short: 'v', default: false },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) return 'help';
  if (values.version) return 'version';
  if (values.channel.length === 0) throw new UsageError('at least one --channel is required');
  if (values.memory && values.data !== undefined) throw new UsageError('--data and --memory exclude each other: choose a file or no file');
  if (values.redis !== undefined && (values.data !== undefined || values.fsync)) {
    throw new UsageError('--redis keeps topic states in Redis: --data and --fsync do not apply');
  }
  const port = positiveInteger(values.port, '--port', true);
  if (port > 65535) throw new UsageError(`--port must be at most 65535, got ${port}`);
  return {
    channels: values.channel.map(parseChannel),
    port,
    host: values.host,
    path: values.path,
    scope: scopeOf(values.scope, '--scope'),
    timeoutMs: positiveInteger(values['timeout-ms'], '--timeout-ms'),
    maxMemoryMiB: positiveInteger(values['max-memory'], '--max-memory'),
    staticDir: values.static,
    watch: !values['no-watch'],
    requestTimeoutMs: positiveInteger(values['request-timeout-ms'], '--request-timeout-ms'),
    origins: values.origin.map(originOf),
    redis: values.redis,
    leaseSeconds: positiveSeconds(values.lease, '--lease'),
    dataFile: values.memory || values.redis !== undefined ? undefined : (values.data ?? 'livestate.db'),
    fsync: values.fsync,
    limits: limitsOf(values),
  };
}

const limitArgs = Object.fromEntries(Object.keys(LIMIT_FLAGS).map((flag) => [flag, { type: 'string' }])) as Record<LimitFlag, { type: 'string' }>;

function limitsOf(values: Partial<Record<LimitFlag, string>>): ServerLimits {
  const limits: ServerLimits = {};
  for (const [flag, option] of Object.entries(LIMIT_FLAGS) as [LimitFlag, (typeof LIMIT_FLAGS)[LimitFlag]][]) {
    const value = values[flag];
    if (value !== undefined) limits[option] = positiveInteger(value, `--${flag}`, ZERO_ALLOWED.has(flag));
  }
  return limits;
}

/** Whether every topic `later` matches is matched by `earlier` (routes are tried in order). */
const covers = (earlier: string, later: string): boolean =>
  earlier === later || (earlier.endsWith('*') && later.startsWith(earlier.slice(0, -1)));

/** Warnings for channels that can never handle a topic because an earlier one takes all of theirs. */
export function unreachableChannels(channels: readonly ChannelOption[]): string[] {
  const warnings: string[] = [];
  channels.forEach((channel, index) => {
    const earlier = channels.slice(0, index).find((other) => covers(other.topic, channel.topic));
    if (!earlier) return;
    warnings.push(
      earlier.topic === channel.topic
        ? `--channel ${channel.topic} is given twice: the first one handles its topics`
        : `--channel ${channel.topic} never handles a topic: ${earlier.topic} comes first and matches all of them`,
    );
  });
  return warnings;
}
