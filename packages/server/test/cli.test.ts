import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { access, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { exited, run, serve } from './support/cli.js';
import { joinChannel, nextPush, phoenixSocket, sendAndWaitForClose, upgradeStatus } from './support/clients.js';
import { guestPath } from './support/guests.js';

describe('the livestate command', () => {
  const children: ChildProcess[] = [];
  after(() => children.forEach((child) => child.kill()));

  it('serves a WebAssembly channel on a free port and static files on the same port', async () => {
    const site = await mkdtemp(join(tmpdir(), 'livestate-static-'));
    await writeFile(join(site, 'index.html'), '<h1>todo</h1>');
    const { child, url } = await serve(['--port', '0', '--channel', `todo:*=${guestPath('todo')},scope=topic`, '--static', site]);
    children.push(child);
    assert.match(url, /^ws:\/\/127\.0\.0\.1:\d+\/socket$/);

    const socket = phoenixSocket(url);
    const channel = socket.channel('todo:cli');
    const change = nextPush(channel, 'state:change');
    await joinChannel(channel);
    assert.deepEqual((await change).state, { todos: [], nextId: 1 });
    const patched = nextPush(channel, 'state:patch');
    channel.push('lvs_evt:addTodo', { todo: 'from the command line' });
    assert.equal((await patched).version, 1);
    socket.disconnect();

    const page = await fetch(url.replace('ws://', 'http://').replace('/socket', '/'));
    assert.equal(await page.text(), '<h1>todo</h1>');

    const exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  });

  it("serves a resident module's events on its own thread without Node's WASI warning", async () => {
    const { child, url, logLine } = await serve(['--port', '0', '--memory', '--channel', `todo:*=${guestPath('resident')},scope=topic`]);
    children.push(child);
    const socket = phoenixSocket(url);
    const channel = socket.channel('todo:resident');
    await joinChannel(channel);
    for (const todo of ['one', 'two']) {
      const patched = nextPush(channel, 'state:patch');
      channel.push('lvs_evt:addTodo', { todo });
      await patched;
    }
    socket.disconnect();
    // Loading @extism/extism on the server's thread imports node:wasi, which prints an ExperimentalWarning:
    // no line of the server's log, up to its exit, may be that warning.
    const noWarning = assert.rejects(logLine(/ExperimentalWarning/), /no log line matched/);
    child.kill('SIGTERM');
    await noWarning;
  });

  it('closes a connection that sends half a request', async () => {
    const { child, port } = await serve(['--port', '0', '--channel', `todo:*=${guestPath('todo')}`, '--request-timeout-ms', '200']);
    children.push(child);
    const answer = await sendAndWaitForClose(port, 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    assert.match(answer, /^HTTP\/1\.1 408 /);
  });

  it('passes its limit options to the server: --max-channels 1 refuses a second join on a socket, --max-topic-bytes a long topic', async () => {
    const { child, url } = await serve(['--port', '0', '--channel', `todo:*=${guestPath('todo')}`, '--max-channels', '1', '--unload-after-ms', '0', '--max-topic-bytes', '12']);
    children.push(child);
    const socket = phoenixSocket(url);
    await assert.rejects(joinChannel(socket.channel('todo:too-long')), (error: { reason: unknown }) => {
      assert.deepEqual(error.reason, { reason: 'topic too long: 13 bytes, over the limit of 12 bytes (maxTopicBytes)' });
      return true;
    });
    await joinChannel(socket.channel('todo:first'));
    await assert.rejects(joinChannel(socket.channel('todo:second')), (error: { reason: unknown }) => {
      assert.deepEqual(error.reason, { reason: 'too many channels on this socket: at most 1' });
      return true;
    });
    socket.disconnect();
  });

  it('prints its version', async () => {
    const { version } = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8'));
    for (const args of [['--version'], ['-v'], ['serve', '--version']]) {
      const { code, stdout } = await run(args);
      assert.equal(code, 0, args.join(' '));
      assert.equal(stdout, `livestate ${version} (@livestate/server, Node ${process.version})\n`);
    }
  });

  it('lists each channel with the events its module exports, and warns about a channel given twice', async () => {
    const todo = guestPath('todo');
    const { child, logLine } = await serve(['--port', '0', '--channel', `todo:*=${todo},scope=topic`, '--channel', `todo:*=${guestPath('faulty')}`, '--channel', `todo:special=${todo}`]);
    children.push(child);
    await logLine(new RegExp(`^channel todo:\\* \\(scope topic\\): ${todo}, events addTodo, toggleTodo, removeTodo$`));
    await logLine(/^warning: --channel todo:\* is given twice: the first one handles its topics$/);
    await logLine(/^warning: --channel todo:special never handles a topic: todo:\* comes first and matches all of them$/);
  });

  it('prints the address it really bound, and names a port that is taken', async () => {
    const site = await mkdtemp(join(tmpdir(), 'livestate-static-'));
    const first = await serve(['--port', '0', '--channel', `todo:*=${guestPath('todo')}`, '--static', site]);
    children.push(first.child);
    assert.notEqual(first.port, 0);
    await first.logLine(new RegExp(`^Serving ${site} at http://localhost:${first.port}/$`));
    const taken = await run(['serve', '--port', String(first.port), '--channel', `todo:*=${guestPath('todo')}`]);
    assert.equal(taken.code, 1);
    assert.ok(taken.stderr.endsWith(`\nlivestate serve: cannot listen on 127.0.0.1:${first.port}: the address is in use\n`), taken.stderr);
    assert.doesNotMatch(taken.stderr, /^\s+at /m, 'no stack trace');
  });

  describe('origins', () => {
    const todo = `todo:*=${guestPath('todo')}`;
    const statusFrom = (url: string, origin?: string, host?: string) =>
      upgradeStatus(`${url}/websocket`, { ...(origin ? { origin } : {}), ...(host ? { host } : {}) });

    it('admits pages from the server itself and from localhost by default, and says so', async () => {
      const { child, url, port, logLine } = await serve(['--port', '0', '--channel', todo]);
      children.push(child);
      assert.equal(await statusFrom(url, 'https://evil.example'), 403);
      assert.equal(await statusFrom(url, `http://127.0.0.1:${port}`), 101, 'same origin');
      assert.equal(await statusFrom(url, 'http://localhost:5173'), 101, 'a dev server on this machine');
      assert.equal(await statusFrom(url, 'http://[::1]:8080'), 101);
      assert.equal(await statusFrom(url), 101, 'no Origin: not a browser');
      assert.equal(await statusFrom(url, 'null'), 403, 'a sandboxed or file:// page');
      const rebound = `rebound.example:${port}`;
      assert.equal(await statusFrom(url, `http://${rebound}`, rebound), 403, 'a page whose name was rebound to this loopback address');
      await logLine(/^origins: .*this server.*localhost.*--origin/);
      await logLine(/^warning: refused a socket from https:\/\/evil\.example: not an allowed origin/);
    });

    it('admits the sites given with --origin, and any with --origin *', async () => {
      const listed = await serve(['--port', '0', '--channel', todo, '--origin', 'https://shop.example', '--origin', 'http://blog.example:8080/']);
      children.push(listed.child);
      assert.equal(await statusFrom(listed.url, 'https://shop.example'), 101);
      assert.equal(await statusFrom(listed.url, 'http://blog.example:8080'), 101);
      assert.equal(await statusFrom(listed.url, `http://127.0.0.1:${listed.port}`), 101, 'same origin');
      assert.equal(await statusFrom(listed.url, 'https://evil.example'), 403);
      assert.equal(await statusFrom(listed.url, 'http://localhost:5173'), 403, 'localhost only by default');
      await listed.logLine(/^origins: .*https:\/\/shop\.example, http:\/\/blog\.example:8080/);

      const any = await serve(['--port', '0', '--channel', todo, '--origin', '*']);
      children.push(any.child);
      assert.equal(await statusFrom(any.url, 'https://evil.example'), 101);
      assert.equal(await statusFrom(any.url, 'null'), 101);
    });
  });

  const badArguments: Array<[string, string[], RegExp]> = [
    ['no channel', ['serve'], /at least one --channel is required/],
    ['a channel without a module', ['serve', '--channel', 'todo:*'], /--channel expects '<topic-pattern>=<module.wasm>'/],
    ['an unknown channel option', ['serve', '--channel', 'a=b.wasm,color=red'], /unknown channel option "color"/],
    ['a bad scope', ['serve', '--channel', 'a=b.wasm', '--scope', 'global'], /--scope must be "connection" or "topic"/],
    ['a bad port', ['serve', '--channel', 'a=b.wasm', '--port', 'eighty'], /--port must be a non-negative integer/],
    ['an unknown option', ['serve', '--colour'], /Unknown option '--colour'/],
    ['an unknown command', ['launch'], /unknown command "launch"/],
    ['no command', [], /^usage: livestate serve/],
    ['an option without its value', ['serve', '--channel', 'a=b.wasm', '--port'], /Option '--port <value>' argument missing/],
    ['a static folder that is not one', ['serve', '--channel', 'a=b.wasm', '--static', '/nonexistent'], /--static: \/nonexistent is not a directory/],
    ['an origin that is not one', ['serve', '--channel', 'a=b.wasm', '--origin', 'shop.example'], /--origin expects '\*' or an origin such as https:\/\/shop\.example, got "shop\.example"/],
    ['--data with --memory', ['serve', '--channel', 'a=b.wasm', '--data', 'x.db', '--memory'], /--data and --memory exclude each other/],
    ['a limit of 0 channels', ['serve', '--channel', 'a=b.wasm', '--max-channels', '0'], /--max-channels must be a positive integer, got "0"/],
    ['a limit that is not a number', ['serve', '--channel', 'a=b.wasm', '--max-pending-events', 'many'], /--max-pending-events must be a positive integer, got "many"/],
  ];
  for (const [what, args, message] of badArguments) {
    it(`exits 2 with a message for ${what}`, async () => {
      const { code, stdout, stderr } = await run(args);
      assert.equal(code, 2);
      assert.match(stderr, message);
      assert.doesNotMatch(stderr, /^\s+at /m, 'no stack trace');
      assert.equal(stdout, '', 'nothing on stdout, where scripts read');
    });
  }

  it('exits 1 with a message for a module that is missing or not a module', async () => {
    const missing = await run(['serve', '--channel', 'a=/nonexistent/handler.wasm']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /cannot load \/nonexistent\/handler\.wasm: ENOENT/);
    const dir = await mkdtemp(join(tmpdir(), 'livestate-cli-'));
    await writeFile(join(dir, 'text.wasm'), 'plain text');
    const invalid = await run(['serve', '--channel', `a=${join(dir, 'text.wasm')}`]);
    assert.equal(invalid.code, 1);
    assert.match(invalid.stderr, /not a WebAssembly module/);
  });

  it('documents every option in --help', async () => {
    const { code, stdout } = await run(['serve', '--help']);
    assert.equal(code, 0);
    for (const option of ['--data', '--memory', '--fsync', '--channel', '--port', '--host', '--scope', '--timeout-ms', '--max-memory', '--static', '--origin', '--request-timeout-ms', '--version', '--max-frame-bytes', '--max-state-bytes', '--max-buffered-bytes', '--max-channels', '--max-pending-events', '--max-topic-bytes', '--max-states', '--unload-after-ms', '--connection-grace-ms', 'scope=connection|topic', 'timeout-ms=<ms>', 'max-memory=<MiB>']) {
      assert.ok(stdout.includes(option), `--help mentions ${option}`);
    }
  });

  describe('storage', () => {
    const todoChannel = `todo:*=${guestPath('todo')},scope=topic`;

    /** Adds a todo on `todo:kept` and returns the state a new join then sees. */
    async function addAndRead(url: string, todo?: string): Promise<unknown> {
      const socket = phoenixSocket(url);
      const channel = socket.channel('todo:kept');
      const change = nextPush(channel, 'state:change');
      await joinChannel(channel);
      const { state } = await change;
      if (todo !== undefined) {
        await new Promise((resolve, reject) => channel.push('lvs_evt:addTodo', { todo }).receive('ok', resolve).receive('error', reject));
      }
      socket.disconnect();
      return state;
    }

    async function restartable(args: string[], cwd: string) {
      const { child, url } = await serve(['--port', '0', '--channel', todoChannel, ...args], { cwd });
      children.push(child);
      return {
        url,
        async stop() {
          child.kill('SIGTERM');
          assert.equal(await exited(child), 0);
        },
      };
    }

    it('keeps topic states in ./livestate.db by default, across restarts', async () => {
      const cwd = await mkdtemp(join(tmpdir(), 'livestate-data-'));
      const first = await restartable([], cwd);
      assert.deepEqual(await addAndRead(first.url, 'kept'), { todos: [], nextId: 1 });
      await first.stop();
      const second = await restartable([], cwd);
      assert.deepEqual(await addAndRead(second.url), { todos: [{ id: 1, text: 'kept', done: false }], nextId: 2 });
      await second.stop();
      await access(join(cwd, 'livestate.db'));
    });

    it('keeps them in the --data file, synced with --fsync; --memory keeps nothing', async () => {
      const cwd = await mkdtemp(join(tmpdir(), 'livestate-data-'));
      const file = join(cwd, 'states', 'todo.db');
      await mkdir(dirname(file));
      const first = await restartable(['--data', file, '--fsync'], tmpdir());
      await addAndRead(first.url, 'in a file');
      await first.stop();
      const second = await restartable(['--data', file], tmpdir());
      assert.deepEqual(await addAndRead(second.url), { todos: [{ id: 1, text: 'in a file', done: false }], nextId: 2 });
      await second.stop();

      const memory = await restartable(['--memory'], cwd);
      await addAndRead(memory.url, 'forgotten');
      await memory.stop();
      const again = await restartable(['--memory'], cwd);
      assert.deepEqual(await addAndRead(again.url), { todos: [], nextId: 1 });
      await again.stop();
      await assert.rejects(access(join(cwd, 'livestate.db')), /ENOENT/);
    });

    it('exits 1 with a message for a data file it cannot open', async () => {
      const { code, stderr } = await run(['serve', '--port', '0', '--channel', todoChannel, '--data', '/nonexistent/dir/x.db']);
      assert.equal(code, 1);
      assert.match(stderr, /--data: cannot open \/nonexistent\/dir\/x\.db: /);
    });
  });
});
