// End to end: the built example, served by a real `livestate serve` process, driven in
// Debian's Chromium through playwright-core, once with each handler: the AssemblyScript
// module and its JavaScript twin compiled to a component. Each test starts its own server
// on a data file of its own, so each starts from an empty list.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { chromium } from 'playwright-core';

const root = fileURLToPath(new URL('..', import.meta.url));
const cli = fileURLToPath(new URL('../node_modules/@livestate/server/dist/cli/livestate.js', import.meta.url));
const screenshot = fileURLToPath(new URL('../screenshot.png', import.meta.url));

const dataDirectory = mkdtempSync(join(tmpdir(), 'livestate-todo-e2e-'));
let dataFiles = 0;
const newDataFile = () => join(dataDirectory, `${++dataFiles}.db`);

const handlers = [
  { language: 'AssemblyScript', module: 'build/todo.wasm' },
  { language: 'JavaScript', module: 'build/todo.component.wasm' },
];

/**
 * Starts the example's server with `module` as `pnpm start` does, on `port` (0: a free one), keeping its
 * states in `data`. Handler time limits are not what these tests check: the limit is raised from 1 s,
 * which a loaded machine can spend starting a worker and the first guest instance before `init` runs.
 */
function startServer(module, port = 0, data = newDataFile()) {
  const child = spawn(
    process.execPath,
    [cli, 'serve', '--channel', `todo:*=${module},scope=topic`, '--static', 'dist', '--port', String(port), '--data', data, '--timeout-ms', '30000'],
    { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the server exited with ${code}`)));
    createInterface({ input: child.stdout }).once('line', (line) => {
      const port = Number(/:(\d+)\/socket$/.exec(line)?.[1]);
      if (!port) reject(new Error(`unexpected line: ${line}`));
      child.removeAllListeners('exit');
      resolve({ port, data, origin: `http://127.0.0.1:${port}`, stop: () => stop(child) });
    });
  });
}

function stop(child) {
  return new Promise((resolve) => {
    child.once('exit', resolve);
    child.kill('SIGTERM');
  });
}

after(() => rmSync(dataDirectory, { recursive: true, force: true }));

for (const { language, module } of handlers) describe(`the todo example, handler in ${language}`, () => {
  let browser;
  const servers = [];
  const serve = async (port, data) => {
    const server = await startServer(module, port, data);
    servers.push(server);
    return server;
  };

  before(async () => {
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
    });
  });
  after(async () => {
    await browser?.close();
    await Promise.all(servers.map((server) => server.stop()));
  });

  /** A page in a window of its own, online. */
  async function open(url) {
    const page = await (await browser.newContext()).newPage();
    page.on('pageerror', (error) => console.error(`page error: ${error.message}`));
    await page.goto(url);
    await page.locator('todo-list .status[data-status="online"]').waitFor();
    return page;
  }

  async function add(page, text) {
    await page.getByPlaceholder('What needs doing?').fill(text);
    await page.getByRole('button', { name: 'Add Todo' }).click();
  }

  const texts = (page) => page.locator('todo-list li span').allTextContents();

  it('shows a todo added in one window in a second window', async () => {
    const { origin } = await serve();
    const [first, second] = [await open(origin), await open(origin)];
    await add(first, 'Buy milk');
    await second.locator('todo-list li', { hasText: 'Buy milk' }).waitFor();
    assert.equal(await first.getByPlaceholder('What needs doing?').inputValue(), '', 'the input is cleared');
    await add(second, 'Write the README');
    await first.locator('todo-list li', { hasText: 'Write the README' }).waitFor();
    assert.deepEqual(await texts(first), ['Buy milk', 'Write the README']);
  });

  it(`propagates toggling and removing and keeps the list on reload${language === 'AssemblyScript' ? ', and saves the screenshot' : ''}`, async () => {
    const { origin } = await serve();
    const [first, second] = [await open(origin), await open(origin)];
    for (const text of ['Buy milk', 'Write the README', 'Ship it', 'Celebrate']) {
      await add(first, text);
      await first.locator('todo-list li', { hasText: text }).waitFor();
    }
    await first.getByLabel('Done: Buy milk').check();
    await second.locator('todo-list li.done', { hasText: 'Buy milk' }).waitFor();
    await second.getByLabel('Remove Celebrate').click();
    await first.locator('todo-list li', { hasText: 'Celebrate' }).waitFor({ state: 'detached' });
    await second.reload();
    await second.locator('todo-list li.done', { hasText: 'Buy milk' }).waitFor();
    assert.deepEqual(await texts(second), ['Buy milk', 'Write the README', 'Ship it']);
    if (language === 'AssemblyScript') {
      await first.setViewportSize({ width: 720, height: 520 });
      await first.screenshot({ path: screenshot });
    }
  });

  it('shows the server error for a whitespace todo and changes nothing', async () => {
    const { origin } = await serve();
    const page = await open(origin);
    await add(page, 'Real work');
    await page.locator('todo-list li', { hasText: 'Real work' }).waitFor();
    await add(page, '    ');
    await page.locator('todo-form .error', { hasText: 'A todo needs some text.' }).waitFor();
    await page.reload();
    await page.locator('todo-list li', { hasText: 'Real work' }).waitFor();
    assert.deepEqual(await texts(page), ['Real work']);
  });

  it('works the same on the plain page that embeds the elements with one script tag, on any port', async () => {
    const { origin, port } = await serve();
    assert.notEqual(port, 4000);
    const embedded = await (await browser.newContext()).newPage();
    // embed.html names no server: the elements find it from their script's URL.
    await embedded.goto(`${origin}/embed.html`);
    assert.equal(await embedded.locator('script[src]').count(), 1);
    await embedded.locator('todo-list .status[data-status="online"]').waitFor();
    const app = await open(origin);
    await add(embedded, 'From the embed');
    await app.locator('todo-list li', { hasText: 'From the embed' }).waitFor();
    await app.getByLabel('Done: From the embed').check();
    await embedded.locator('todo-list li.done', { hasText: 'From the embed' }).waitFor();
  });

  it('shows offline while the server is down, then online again with the list kept, resumed without the whole state', async () => {
    const server = await serve();
    const page = await open(server.origin);
    await add(page, 'Before the restart');
    await page.locator('todo-list li', { hasText: 'Before the restart' }).waitFor();
    await server.stop();
    servers.splice(servers.indexOf(server), 1);
    await page.locator('todo-list .status[data-status="offline"]').waitFor();
    // What the page receives on its new socket: the rejoin carries lvs_resume, so no state:change.
    const received = [];
    page.on('websocket', (socket) => socket.on('framereceived', ({ payload }) => received.push(JSON.parse(payload)[3])));
    await serve(server.port, server.data);
    await page.locator('todo-list .status[data-status="online"]').waitFor({ timeout: 30_000 });
    await add(page, 'After the restart');
    await page.locator('todo-list li', { hasText: 'After the restart' }).waitFor();
    assert.deepEqual(await texts(page), ['Before the restart', 'After the restart']);
    assert.ok(received.includes('state:patch'), `frames received: ${received.join(', ')}`);
    assert.ok(!received.includes('state:change'), `frames received: ${received.join(', ')}`);
  });
});
