import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { request, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../../dist/cli/livestate.js', import.meta.url));

/** Runs `livestate` to completion. */
export function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: tmpdir() });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A running `livestate serve`: its URL, and its log lines (stderr) as they come. */
export interface Served {
  child: ChildProcess;
  url: string;
  port: number;
  /** Resolves with the first log line that matches, waiting for it if need be. */
  logLine(pattern: RegExp): Promise<string>;
}

export interface ServeOptions {
  /** The working directory, where the default `./livestate.db` goes. Default: a new temporary folder. */
  cwd?: string;
  /** Node options before the script, e.g. `--expose-gc`. */
  nodeArgs?: string[];
}

/** Starts `livestate serve` and resolves once it prints the ready line. */
export function serve(args: string[], { cwd = mkdtempSync(join(tmpdir(), 'livestate-cwd-')), nodeArgs = [] }: ServeOptions = {}): Promise<Served> {
  const child = spawn(process.execPath, [...nodeArgs, CLI, 'serve', ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const log: string[] = [];
  const stderr = createInterface({ input: child.stderr! }).on('line', (line) => log.push(line));
  const logLine = (pattern: RegExp): Promise<string> => {
    const found = log.find((line) => pattern.test(line));
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const check = (line: string) => {
        if (!pattern.test(line)) return;
        stderr.off('line', check);
        resolve(line);
      };
      stderr.on('line', check).once('close', () => reject(new Error(`no log line matched ${pattern}:\n${log.join('\n')}`)));
    });
  };
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`livestate exited with ${code} before it was ready:\n${log.join('\n')}`)));
    createInterface({ input: child.stdout! }).once('line', (line) => {
      const match = /^LiveState listening on (ws:\/\/\S+)$/.exec(line);
      if (match) resolve({ child, url: match[1]!, port: Number(new URL(match[1]!).port), logLine });
      else reject(new Error(`unexpected first line: ${line}`));
    });
  });
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A request whose path is sent exactly as given (fetch would normalize it). */
export function rawRequest(port: number, path: string, method = 'GET'): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path, method }, (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode!, headers: response.headers, body }));
    })
      .on('error', reject)
      .end();
  });
}

/** Resolves with the exit code once the process has exited. */
export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}
