#!/usr/bin/env node
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Logger } from '../logger.js';
import { LiveStateServer } from '../server.js';
import { MemoryStorage } from '../storage/memory-storage.js';
import { SqliteStorage } from '../storage/sqlite-storage.js';
import { requestTimeouts } from '../transport/request-timeouts.js';
import { wasmHandler, type WasmHandler } from '../wasm/wasm-handler.js';
import { isLoopback, OriginPolicy } from './origin-policy.js';
import { parseServeOptions, SERVE_USAGE, unreachableChannels, UsageError, type ServeOptions } from './serve-options.js';
import { staticFiles } from './static-files.js';

/** Everything but the ready line goes to stderr, so stdout can be read by scripts. */
const stderrLogger: Logger = {
  info: (message) => console.error(message),
  warn: (message) => console.error(`warning: ${message}`),
  error: (message) => console.error(`error: ${message}`),
};

const LISTEN_ERRORS: Record<string, string> = {
  EADDRINUSE: 'the address is in use',
  EACCES: 'permission denied (ports below 1024 need privileges)',
  EADDRNOTAVAIL: 'no interface of this machine has that address',
};

const VERSION_OPTIONS = ['-v', '--version'];

async function printVersion(): Promise<void> {
  const { version } = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  console.log(`livestate ${version} (@livestate/server, Node ${process.version})`);
}

const USAGE = `usage: livestate serve [options]   (livestate serve --help for the options)`;

function openData(file: string, fsync: boolean): SqliteStorage {
  const path = resolve(file);
  try {
    const storage = new SqliteStorage(path, { fsync });
    stderrLogger.info(`Keeping topic states in ${path}${fsync ? ', synced on every commit' : ''}`);
    return storage;
  } catch (error) {
    throw new Error(`--data: cannot open ${path}: ${(error as Error).message}`);
  }
}

async function serve(options: ServeOptions): Promise<void> {
  if (options.staticDir && !(await stat(options.staticDir).catch(() => undefined))?.isDirectory()) {
    throw new UsageError(`--static: ${options.staticDir} is not a directory`);
  }
  for (const warning of unreachableChannels(options.channels)) stderrLogger.warn(warning);
  const handlers: WasmHandler[] = [];
  const routes = [];
  for (const channel of options.channels) {
    const handler = await wasmHandler(channel.module, {
      timeoutMs: channel.timeoutMs ?? options.timeoutMs,
      maxMemoryMiB: channel.maxMemoryMiB ?? options.maxMemoryMiB,
      watch: options.watch,
      logger: stderrLogger,
    }).catch((error: Error) => {
      throw new Error(`--channel ${channel.topic}: cannot load ${channel.module}: ${error.message}`);
    });
    handlers.push(handler);
    const scope = channel.scope ?? options.scope;
    if (handler.events.size === 0) stderrLogger.warn(`${channel.module} exports no event functions`);
    else stderrLogger.info(`channel ${channel.topic} (scope ${scope}): ${channel.module}, events ${[...handler.events].join(', ')}`);
    routes.push({ topic: channel.topic, handler, scope });
  }
  const http = createServer(
    requestTimeouts(options.requestTimeoutMs),
    options.staticDir ? staticFiles(options.staticDir, stderrLogger) : (_request, response) => response.writeHead(404).end('Not found'),
  );
  const originPolicy = new OriginPolicy(options.origins, isLoopback(options.host), stderrLogger);
  const cluster = options.redis === undefined ? undefined : { redis: options.redis, leaseSeconds: options.leaseSeconds };
  const storage = options.dataFile === undefined ? new MemoryStorage() : openData(options.dataFile, options.fsync);
  const server = new LiveStateServer({ ...options.limits, routes, path: options.path, origins: originPolicy.allows, storage, logger: stderrLogger, cluster }).attach(http);
  await server.ready();
  await new Promise<void>((resolve, reject) => {
    http.once('error', (error: NodeJS.ErrnoException) => {
      const reason = LISTEN_ERRORS[error.code ?? ''] ?? error.message;
      reject(new Error(`cannot listen on ${options.host}:${options.port}: ${reason}`));
    });
    http.listen(options.port, options.host, () => resolve());
  });
  console.log(`LiveState listening on ${server.url}`);
  stderrLogger.info(originPolicy.describe());
  if (options.staticDir) {
    const { port } = server.address()!;
    const host = ['0.0.0.0', '::', '127.0.0.1', '::1'].includes(options.host) ? 'localhost' : options.host;
    stderrLogger.info(`Serving ${options.staticDir} at http://${host}:${port}/`);
  }

  const stop = async () => {
    // The server finishes (or, in a cluster, hands over) its topics' queued events first: they still run their handlers.
    await server.close();
    for (const handler of handlers) handler.close();
    http.closeAllConnections();
    http.close(() => process.exit(0));
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  if (command === undefined) {
    console.error(`${USAGE}\n\n${SERVE_USAGE}`);
    return 2;
  }
  if (command === '-h' || command === '--help' || command === 'help') {
    console.log(`${USAGE}\n\n${SERVE_USAGE}`);
    return 0;
  }
  if (VERSION_OPTIONS.includes(command)) {
    await printVersion();
    return 0;
  }
  if (command !== 'serve') {
    console.error(`livestate: unknown command "${command}"\n${USAGE}`);
    return 2;
  }
  try {
    const options = parseServeOptions(rest);
    if (options === 'help') {
      console.log(SERVE_USAGE);
      return 0;
    }
    if (options === 'version') {
      await printVersion();
      return 0;
    }
    await serve(options);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`livestate serve: ${error.message}\n${USAGE}`);
      return 2;
    }
    console.error(`livestate serve: ${(error as Error).message}`);
    return 1;
  }
}

const code = await main(process.argv.slice(2));
if (code !== 0) process.exit(code);
