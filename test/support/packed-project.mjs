// The packages as users get them: packed with `pnpm pack`, and installed from the tarballs
// into a fresh project outside the workspace, with npm or with pnpm.
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
/** Every published package, packed and checked. */
export const packageNames = ['server', 'elements', 'guest', 'guest-js'];
/**
 * The ones the test project installs and uses. (@livestate/guest-js is left out: its compiler
 * brings a JavaScript engine of some 100 MB; its own tests build components.)
 */
export const installedPackageNames = ['server', 'elements', 'guest'];

const execFileAsync = promisify(execFile);

/** Runs a command; a failure carries its output, so the test report shows what went wrong. */
export async function run(command, args, options = {}) {
  try {
    return await execFileAsync(command, args, { maxBuffer: 64 * 1024 * 1024, ...options });
  } catch (error) {
    const output = [error.stdout, error.stderr].filter(Boolean).join('\n').trim();
    throw new Error(`${[command, ...args].join(' ')} failed (exit ${error.code}):\n${output || error.message}`);
  }
}

/** Packs each package into a new temporary folder; returns the tarballs' paths by package (`{server, ...}`). */
export async function packAll() {
  const destination = await mkdtemp(join(tmpdir(), 'livestate-tarballs-'));
  await Promise.all(
    packageNames.map((name) =>
      run('pnpm', ['pack', '--pack-destination', destination], { cwd: join(repoRoot, 'packages', name) }),
    ),
  );
  const files = await readdir(destination);
  return Object.fromEntries(
    packageNames.map((name) => [name, join(destination, files.find((file) => new RegExp(`^livestate-${name}-\\d`).test(file)))]),
  );
}

const readJson = async (path) => JSON.parse(await readFile(path, 'utf8'));

/** The versions the workspace itself uses, so the project tests the same toolchain. */
async function workspaceVersions() {
  const root = await readJson(join(repoRoot, 'package.json'));
  const elements = await readJson(join(repoRoot, 'packages', 'elements', 'package.json'));
  const server = await readJson(join(repoRoot, 'packages', 'server', 'package.json'));
  return {
    dependencies: {
      lit: elements.devDependencies.lit,
      '@lit/context': elements.devDependencies['@lit/context'],
      phoenix: elements.devDependencies.phoenix,
    },
    devDependencies: {
      typescript: root.devDependencies.typescript,
      vite: elements.devDependencies.vite,
      '@types/node': server.devDependencies['@types/node'],
    },
  };
}

const installCommands = {
  npm: ['npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error']],
  pnpm: ['pnpm', ['install', '--prefer-offline', '--reporter=silent']],
};

/**
 * A fresh project under the system's temporary folder with the tarballs installed by
 * `packageManager`, and `fixtures` (a folder) copied into it.
 */
export async function createProject(packageManager, tarballs, fixtures) {
  const dir = await mkdtemp(join(tmpdir(), `livestate-packed-${packageManager}-`));
  const { dependencies, devDependencies } = await workspaceVersions();
  const manifest = {
    name: `livestate-packed-${packageManager}`,
    private: true,
    type: 'module',
    dependencies: {
      ...Object.fromEntries(installedPackageNames.map((name) => [`@livestate/${name}`, `file:${tarballs[name]}`])),
      ...dependencies,
    },
    devDependencies,
  };
  await writeFile(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  await cp(fixtures, dir, { recursive: true });
  const [command, args] = installCommands[packageManager];
  await run(command, args, { cwd: dir });
  return {
    dir,
    /** Runs a command the project installed, as `npm exec`/`pnpm exec` would. */
    exec: (bin, args, options = {}) => run(join(dir, 'node_modules', '.bin', bin), args, { cwd: dir, ...options }),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
