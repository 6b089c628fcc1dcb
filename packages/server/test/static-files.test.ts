import assert from 'node:assert/strict';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { rawRequest, serve, type Served } from './support/cli.js';
import { guestPath } from './support/guests.js';

const SECRET = 'the secret outside the folder';
const BIG = 'many bytes '.repeat(300_000);

describe('livestate serve --static', () => {
  const children: ChildProcess[] = [];
  let served: Served;
  const get = (path: string, method = 'GET') => rawRequest(served.port, path, method);

  before(async () => {
    const outside = await mkdtemp(join(tmpdir(), 'livestate-outside-'));
    await writeFile(join(outside, 'secret.txt'), SECRET);
    const site = join(outside, 'site');
    await mkdir(join(site, 'docs'), { recursive: true });
    await writeFile(join(site, 'index.html'), '<h1>home</h1>');
    await writeFile(join(site, 'app.js'), 'console.log("app");');
    await writeFile(join(site, 'big.txt'), BIG);
    await writeFile(join(site, 'docs', 'index.html'), '<h1>docs</h1>');
    await mkdir(join(site, 'data.json'));
    await symlink(join(site, 'app.js'), join(site, 'alias.js'));
    await symlink(join(outside, 'secret.txt'), join(site, 'leak.txt'));
    await symlink(outside, join(site, 'up'));
    await symlink('/proc/self/mem', join(site, 'mem.bin'));
    execFileSync('mkfifo', [join(site, 'pipe.html')]);
    served = await serve(['--port', '0', '--channel', `todo:*=${guestPath('todo')}`, '--static', site]);
    children.push(served.child);
  });
  after(() => children.forEach((child) => child.kill()));

  it('serves regular files, folders by their index.html, and links that stay inside', async () => {
    const home = await get('/');
    assert.equal(home.status, 200);
    assert.equal(home.body, '<h1>home</h1>');
    assert.equal(home.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(home.headers['x-content-type-options'], 'nosniff');
    assert.equal((await get('/docs/')).body, '<h1>docs</h1>');
    assert.equal((await get('/alias.js')).body, 'console.log("app");');
    assert.equal((await get('/big.txt')).body, BIG);
  });

  it('answers HEAD with the headers and no body', async () => {
    const head = await get('/app.js', 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], String('console.log("app");'.length));
    assert.equal(head.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(head.body, '');
  });

  it('refuses links that lead out of the folder with 403', async () => {
    for (const path of ['/leak.txt', '/up/secret.txt', '/mem.bin']) {
      const response = await get(path);
      assert.equal(response.status, 403, path);
      assert.ok(!response.body.includes(SECRET), path);
    }
    assert.equal((await get('/')).status, 200, 'the server is still up');
  });

  it('answers 404 for what is missing, and 403 for what is not a regular file', async () => {
    const missing = await get('/nothing.html');
    assert.equal(missing.status, 404);
    assert.equal(missing.headers['x-content-type-options'], 'nosniff');
    assert.equal((await get('/data.json')).status, 404, 'a folder without an index.html');
    assert.equal((await get('/pipe.html')).status, 403, 'a FIFO');
  });

  it('rejects path traversal in every spelling with 400', async () => {
    for (const path of ['/../secret.txt', '/docs/../../secret.txt', '/..%2fsecret.txt', '/%2e%2e/secret.txt', '/%2E%2E%2Fsecret.txt', '/docs/..%5c..%5csecret.txt', '/index.html%00.js', '/%E0%A4%A']) {
      const response = await get(path);
      assert.equal(response.status, 400, path);
      assert.ok(!response.body.includes(SECRET), path);
    }
  });

  it('answers other methods with 405', async () => {
    const response = await get('/', 'POST');
    assert.equal(response.status, 405);
    assert.equal(response.headers.allow, 'GET, HEAD');
  });

  it('answers 500 when a file cannot be read, logs it, and keeps serving', async () => {
    const proc = await serve(['--port', '0', '--channel', `todo:*=${guestPath('todo')}`, '--static', '/proc/self']);
    children.push(proc.child);
    // Reading a process's memory from address 0 fails with EIO, though the file opens.
    const failed = await rawRequest(proc.port, '/mem');
    assert.equal(failed.status, 500);
    await proc.logLine(/\/mem.*EIO/);
    assert.equal((await rawRequest(proc.port, '/nothing')).status, 404, 'the server is still up');
  });
});
