import { constants } from 'node:fs';
import { open, realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { once } from 'node:events';
import { extname, join, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Logger } from '../logger.js';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
};

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad request',
  403: 'Forbidden',
  404: 'Not found',
  405: 'Method not allowed',
  500: 'Internal server error',
};

/** Browsers must take the content type as given, not guess one from the bytes. */
const NOSNIFF = { 'x-content-type-options': 'nosniff' };

/** A path's FIFO must not block the open, and a link swapped in after it was resolved must not be followed. */
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW;

class StatusError extends Error {
  constructor(readonly status: number) {
    super(STATUS_TEXT[status]);
  }
}

/** The status for a failed file system call: missing is 404, not ours to read is 403, anything else is ours (500). */
function statusOf(error: unknown): number {
  if (error instanceof StatusError) return error.status;
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ENAMETOOLONG') return 404;
  if (code === 'EACCES' || code === 'EPERM' || code === 'ELOOP') return 403;
  return 500;
}

/**
 * The decoded path of a request's URL. Browsers resolve `.` and `..` before they send a URL, so
 * any `..` segment (as typed, or encoded as `%2e` or around `%2f`/`%5c`), a NUL, or bad
 * percent-encoding is a crafted request: 400.
 */
function requestPath(url: string): string {
  const raw = url.split(/[?#]/, 1)[0]!;
  let path: string;
  try {
    path = decodeURIComponent(raw);
  } catch {
    throw new StatusError(400);
  }
  if (!path.startsWith('/') || path.includes('\0') || path.split(/[/\\]/).includes('..')) throw new StatusError(400);
  return path;
}

/**
 * Serves the regular files below `root` (GET and HEAD; `index.html` for folders). Links are
 * resolved first, and whatever they lead to outside the folder is refused (403); every error
 * is answered with a status, and a read that fails is logged.
 */
export function staticFiles(root: string, logger: Logger): (request: IncomingMessage, response: ServerResponse) => void {
  const base = realpath(root);

  /** The real path of `path` if it is inside the folder, following a folder to its `index.html`. */
  async function resolveInside(path: string): Promise<string> {
    const folder = await base;
    const real = await realpath(path);
    if (real !== folder && !real.startsWith(folder + sep)) throw new StatusError(403);
    return (await stat(real)).isDirectory() ? resolveInside(join(real, 'index.html')) : real;
  }

  async function respond(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD', ...NOSNIFF }).end();
      return;
    }
    const file = await resolveInside(join(await base, requestPath(request.url ?? '/')));
    const handle = await open(file, OPEN_FLAGS);
    try {
      const info = await handle.stat();
      if (!info.isFile()) throw new StatusError(403);
      const headers = {
        'content-type': CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
        'content-length': info.size,
        'cache-control': 'no-cache',
        ...NOSNIFF,
      };
      if (request.method === 'HEAD') {
        response.writeHead(200, headers).end();
        return;
      }
      const body = handle.createReadStream();
      // Until the first read succeeds nothing is sent, so a file that cannot be read still gets a status.
      await once(body, 'readable');
      response.writeHead(200, headers);
      await pipeline(body, response).catch((error: Error) => logger.warn(`static file ${file}: ${error.message}`));
    } finally {
      await handle.close().catch(() => undefined);
    }
  }

  return (request, response) => {
    respond(request, response).catch((error: unknown) => {
      const status = statusOf(error);
      if (status === 500) logger.error(`static file ${request.url}: ${(error as Error).message}`);
      if (response.headersSent) response.destroy();
      else response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...NOSNIFF }).end(STATUS_TEXT[status]);
    });
  };
}
