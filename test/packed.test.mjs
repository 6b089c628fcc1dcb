// The packages as a stranger gets them: `pnpm pack`ed, installed from the tarballs into a
// fresh project outside the workspace (with npm, then with pnpm), and used there: apps
// type-checked, a handler compiled with the installed livestate-guest and served by the
// installed `livestate serve`, the elements README's decorator example built by Vite and its
// script-tag page loaded in Chromium. A file missing from a package's `files` fails it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFile, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, normalize, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Socket } from 'phoenix';
import { chromium } from 'playwright-core';
import { createProject, packAll, packageNames, repoRoot, run } from './support/packed-project.mjs';
import { codeBlocks } from './support/readme-blocks.mjs';

const fixtures = fileURLToPath(new URL('packed', import.meta.url));
const tools = join(dirname(fileURLToPath(import.meta.url)), 'node_modules', '.bin');

/** Starts the project's `livestate serve` on a free port; resolves once it printed its address. */
function serve(project, args) {
  const child = spawn(join(project.dir, 'node_modules', '.bin', 'livestate'), ['serve', ...args], {
    cwd: project.dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stderr.on('data', (chunk) => (log += chunk));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`livestate serve exited with ${code}:\n${log}`)));
    createInterface({ input: child.stdout }).once('line', (line) => {
      const url = /ws:\/\/\S+\/socket/.exec(line)?.[0];
      if (!url) return reject(new Error(`unexpected first line from livestate serve: ${line}`));
      child.removeAllListeners('exit');
      const stop = () =>
        new Promise((done) => {
          child.once('exit', done);
          child.kill('SIGTERM');
        });
      resolve({ url, origin: url.replace(/^ws/, 'http').replace(/\/socket$/, ''), stop });
    });
  });
}

const nextPush = (channel, event) =>
  new Promise((resolve) => {
    const ref = channel.on(event, (payload) => {
      channel.off(event, ref);
      resolve(payload);
    });
  });

const launchChromium = () =>
  chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });

const timed = async (t, what, work) => {
  const started = performance.now();
  const result = await work();
  t.diagnostic(`${what}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return result;
};

let tarballs;
/** Each tarball unpacked: `{root, files}` by package name. */
let unpacked;
before(async () => {
  tarballs = await packAll();
  unpacked = Object.fromEntries(await Promise.all(packageNames.map(async (name) => [name, await unpack(tarballs[name])])));
});
after(async () => {
  if (tarballs) await rm(dirname(tarballs.server), { recursive: true, force: true });
});

/** Unpacks a tarball next to it; resolves with its folder and the paths of its files. */
async function unpack(tarball) {
  const dir = tarball.replace(/\.tgz$/, '');
  await mkdir(dir, { recursive: true });
  await run('tar', ['xzf', tarball, '-C', dir]);
  const files = (await readdir(join(dir, 'package'), { recursive: true, withFileTypes: true }))
    .filter((entry) => entry.isFile())
    .map((entry) => relative(join(dir, 'package'), join(entry.parentPath, entry.name)));
  return { root: join(dir, 'package'), files: new Set(files) };
}

describe('the tarballs', () => {
  it('each carries its README, LICENSE and package.json', async () => {
    for (const name of packageNames) {
      const { files } = unpacked[name];
      for (const file of ['README.md', 'LICENSE', 'package.json']) assert.ok(files.has(file), `${name}: ${file} is missing`);
    }
  });

  it('each LICENSE is the repository\'s', async () => {
    const license = await readFile(join(repoRoot, 'LICENSE'), 'utf8');
    for (const name of packageNames) {
      const { root } = unpacked[name];
      assert.equal(await readFile(join(root, 'LICENSE'), 'utf8'), license, `${name}'s LICENSE differs`);
    }
  });

  it('the server\'s public types have no any', async () => {
    const { root } = unpacked.server;
    const seen = new Set();
    const visit = async (file) => {
      if (seen.has(file)) return;
      seen.add(file);
      const text = (await readFile(join(root, file), 'utf8')).replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
      assert.doesNotMatch(text, /\bany\b/, `${file} uses any`);
      for (const [, target] of text.matchAll(/from '(\.[^']+)\.js'/g)) await visit(normalize(join(dirname(file), `${target}.d.ts`)));
    };
    await visit('dist/index.d.ts');
    assert.ok(seen.size > 5, `followed the imports of dist/index.d.ts (${seen.size} files)`);
  });

  it('ship every source their source maps point at', async () => {
    for (const name of packageNames) {
      const { root, files } = unpacked[name];
      for (const map of [...files].filter((file) => file.endsWith('.map'))) {
        const { sources, sourcesContent = [], sourceRoot = '' } = JSON.parse(await readFile(join(root, map), 'utf8'));
        sources.forEach((source, i) => {
          if (sourcesContent[i] != null) return;
          const shipped = normalize(join(dirname(map), sourceRoot, source));
          assert.ok(files.has(shipped),
            `${name}: ${map} points at ${shipped}, which is not in the package (a stale build? rm -rf packages/*/dist && pnpm build)`);
        });
      }
    }
  });

  it('pass publint --strict', async () => {
    for (const name of packageNames) await run(join(tools, 'publint'), ['run', '--strict', tarballs[name]]);
  });

  it('pass arethetypeswrong (ESM-only profile)', async () => {
    await run(join(tools, 'attw'), ['--profile', 'esm-only', '--format', 'ascii', tarballs.server]);
    await run(join(tools, 'attw'), ['--profile', 'esm-only', '--format', 'ascii', tarballs.elements]);
    // ./wit/handler.wit is the component's interface in WIT, a text file, not a module.
    await run(join(tools, 'attw'), [tarballs['guest-js'], '--profile', 'esm-only', '--format', 'ascii',
      '--exclude-entrypoints', './wit/handler.wit']);
    // @livestate/guest is AssemblyScript source, not a JavaScript package: its entry imports
    // AssemblyScript-only modules that TypeScript cannot resolve, which is all attw reports.
    await run(join(tools, 'attw'), [tarballs.guest, '--profile', 'esm-only', '--format', 'ascii',
      '--ignore-rules', 'internal-resolution-error']);
  });
});

for (const packageManager of ['npm', 'pnpm']) {
  describe(`installed with ${packageManager} outside the workspace`, () => {
    let project;
    let server;
    let browser;

    before(async () => {
      const started = performance.now();
      project = await createProject(packageManager, tarballs, fixtures);
      console.log(`# ${packageManager} install: ${((performance.now() - started) / 1000).toFixed(1)} s in ${project.dir}`);
    });
    after(async () => {
      await browser?.close();
      await server?.stop();
      await project?.remove();
    });

    it('type-checks a server-only app with lib es2023 and no DOM', async (t) => {
      await timed(t, 'tsc', () => project.exec('tsc', ['-p', 'server-app']));
    });

    it('type-checks an app that uses the elements, their script-tag bundle and its global', async (t) => {
      await timed(t, 'tsc', () => project.exec('tsc', ['-p', 'browser-app']));
    });

    it('compiles a handler with the installed livestate-guest', async (t) => {
      const { stdout } = await timed(t, 'livestate-guest', () =>
        project.exec('livestate-guest', ['handler.ts', '-o', 'handler.wasm']),
      );
      assert.match(stdout, /wrote handler\.wasm \([\d.]+ KiB\) in [\d.]+ s/);
      assert.ok((await stat(join(project.dir, 'handler.wasm'))).size > 0);
    });

    it('builds the README decorator example with Vite', async (t) => {
      await project.exec('tsc', ['-p', 'vite-app']);
      await timed(t, 'vite build', () => project.exec('vite', ['build', 'vite-app', '--logLevel', 'warn']));
    });

    it('puts the elements README\'s script-tag page, as written, in the static folder', async () => {
      const [example] = codeBlocks(repoRoot, 'packages/elements/README.md').filter(
        (block) => block.language === 'html' && block.code.includes('livestate-elements.iife.js'),
      );
      assert.ok(example, 'the elements README has a script-tag example');
      await mkdir(join(project.dir, 'public'), { recursive: true });
      await writeFile(join(project.dir, 'public', 'script-tag.html'), example.code.replace('https://your.server/', '/'));
      await copyFile(
        join(project.dir, 'node_modules', '@livestate', 'elements', 'dist', 'cdn', 'livestate-elements.iife.js'),
        join(project.dir, 'public', 'livestate-elements.iife.js'),
      );
    });

    it('serves the handler with the installed livestate serve, to a phoenix client', async () => {
      server = await serve(project, ['--channel', 'todo:*=handler.wasm,scope=topic', '--port', '0',
        '--host', '127.0.0.1', '--static', 'public']);
      const socket = new Socket(server.url, { transport: WebSocket });
      socket.connect();
      try {
        const channel = socket.channel('todo:node', {});
        const initial = nextPush(channel, 'state:change');
        channel.join();
        const { state, version } = await initial;
        assert.deepEqual({ state, version }, { state: { todos: [] }, version: 0 });
        const added = nextPush(channel, 'todo-added');
        const patch = nextPush(channel, 'state:patch');
        channel.push('lvs_evt:addTodo', { todo: 'Buy milk' });
        assert.deepEqual(await added, { count: 1 });
        assert.equal((await patch).version, 1);
      } finally {
        socket.disconnect();
      }
    });

    it('runs the Vite app and the README\'s script-tag page in Chromium', async () => {
      assert.ok(server, 'needs the server of the previous test');
      browser = await launchChromium();
      const page = await browser.newPage();
      const errors = [];
      page.on('pageerror', (error) => errors.push(error.message));

      await page.goto(`${server.origin}/app/index.html`);
      await page.locator('todo-list p', { hasText: 'online' }).waitFor();
      await page.evaluate(() =>
        document.querySelector('todo-list').dispatchEvent(new CustomEvent('addTodo', { detail: { todo: 'From Vite' } })),
      );
      await page.locator('todo-list li', { hasText: 'From Vite' }).waitFor();

      await page.goto(`${server.origin}/script-tag.html`);
      await page.locator('todo-count', { hasText: '0 todos' }).waitFor();
      assert.deepEqual(errors, []);
    });
  });
}

