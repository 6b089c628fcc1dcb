import { componentize } from '@bytecodealliance/componentize-js';
import { transpile } from '@bytecodealliance/jco';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export interface BuildOptions {
  /** The handler module: JavaScript or TypeScript, importing what it needs. */
  source: string;
  /** The component to write, `<name>.wasm`; its loader (`<name>.js`) and core modules go beside it. */
  out: string;
  /** Build even when the output was made from the same bundle. */
  force?: boolean;
}

export interface BuildResult {
  /** `false` when the output was already built from the same source. */
  built: boolean;
  /** Bytes of the component. */
  size: number;
}

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
export const WIT_PATH = join(packageRoot, 'wit', 'handler.wit');
const ADAPTER_PATH = join(packageRoot, 'dist', 'adapter.js');

/**
 * Everything the engine offers beyond computation: with all of it disabled the
 * component imports nothing, so a handler can reach no clock, randomness, I/O or network.
 */
const DISABLED_FEATURES = ['stdio', 'random', 'clocks', 'http', 'fetch-event'] as const;

/** The loader's first lines; the server checks the component stamp, the build the source stamp. */
const componentStamp = (hash: string) => `// livestate-guest-js: component sha256 ${hash}\n`;
const sourceStamp = (hash: string) => `// livestate-guest-js: source sha256 ${hash}\n`;

const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

/** The module componentize-js evaluates: the handler, wrapped into the world's exports by the adapter. */
function entrySource(source: string): string {
  return [
    `import * as handlerModule from ${JSON.stringify(resolve(source))};`,
    `import { handlerWorld } from ${JSON.stringify(ADAPTER_PATH)};`,
    'const world = handlerWorld(handlerModule);',
    'export const init = world.init;',
    'export const handleEvent = world.handleEvent;',
    'export const events = world.events;',
  ].join('\n');
}

/** The bundle, the same from any working directory (its path comments are relative to the handler's folder). */
async function bundle(source: string): Promise<string> {
  const folder = dirname(resolve(source));
  const result = await build({
    absWorkingDir: folder,
    stdin: { contents: entrySource(source), resolveDir: folder, sourcefile: 'livestate-entry.js', loader: 'js' },
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}

async function builtFrom(loaderPath: string): Promise<string | undefined> {
  const loader = await readFile(loaderPath, 'utf8').catch(() => '');
  return /^\/\/ livestate-guest-js: source sha256 ([0-9a-f]{64})$/m.exec(loader)?.[1];
}

/** Writes `data` under a temporary name and renames it into place, so a reader never sees half a file. */
async function writeAtomically(path: string, data: string | Uint8Array): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, data);
  await rename(temporary, path);
}

/**
 * Bundles the handler (esbuild: TypeScript and npm imports work), builds it into a
 * component with no imports (componentize-js), and transpiles that with jco into the
 * core modules and the loader @livestate/server runs. The component file is written
 * last, so a server watching it reloads a complete build.
 */
export async function buildComponent(options: BuildOptions): Promise<BuildResult> {
  if (!options.out.endsWith('.wasm')) throw new Error(`the output must be a .wasm file, got "${options.out}"`);
  const out = resolve(options.out);
  const name = basename(out, '.wasm');
  const loaderPath = join(dirname(out), `${name}.js`);
  const code = await bundle(options.source);
  const toolManifest = await readFile(new URL('../package.json', import.meta.resolve('@bytecodealliance/componentize-js')), 'utf8');
  const sourceHash = sha256([code, await readFile(WIT_PATH, 'utf8'), toolManifest, DISABLED_FEATURES.join()].join('\0'));
  if (!options.force && (await builtFrom(loaderPath)) === sourceHash) {
    const existing = await readFile(out).catch(() => undefined);
    if (existing) return { built: false, size: existing.byteLength };
  }

  const workDir = await mkdtemp(join(tmpdir(), 'livestate-guest-js-'));
  try {
    const bundlePath = join(workDir, 'handler.js');
    await writeFile(bundlePath, code);
    const { component, imports } = await componentize({
      sourcePath: bundlePath,
      witPath: WIT_PATH,
      worldName: 'handler',
      disableFeatures: [...DISABLED_FEATURES],
    });
    if (imports.length > 0) throw new Error(`the component imports ${imports.map(String).join(', ')}; a handler must import nothing`);
    const { files } = await transpile(component, { name, instantiation: 'async', noTypescript: true });
    await mkdir(dirname(out), { recursive: true });
    for (const [file, data] of Object.entries(files)) {
      if (!file.endsWith('.wasm')) continue;
      await writeAtomically(join(dirname(out), file), data);
    }
    const loader = new TextDecoder().decode(files[`${name}.js`]);
    await writeAtomically(loaderPath, componentStamp(sha256(component)) + sourceStamp(sourceHash) + loader);
    await writeAtomically(out, component);
    return { built: true, size: component.byteLength };
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}
