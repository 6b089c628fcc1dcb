import { createHash } from 'node:crypto';
import { open, readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ComponentModule } from './worker-protocol.js';

/** A component binary starts with the WebAssembly magic, version 0x0d and layer 1; a core module has version 1, layer 0. */
const COMPONENT_HEADER = [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];

export const isComponent = (bytes: Uint8Array): boolean => COMPONENT_HEADER.every((byte, index) => bytes[index] === byte);

/**
 * The first line `livestate-guest-js` writes into the loader it transpiles: the hash of
 * the component it was made from, so that a loader left from another build is refused.
 */
const LOADER_STAMP = /^\/\/ livestate-guest-js: component sha256 ([0-9a-f]{64})\n/;

/** How the server prepares a core module: capped, and with its mutable globals exported when it can. */
export type CoreRewrite = (bytes: Uint8Array) => { rewritten: Uint8Array; restorable: boolean };

/**
 * Prepares the component at `path` (`<name>.wasm`) for the pool: the loader jco wrote
 * beside it (`<name>.js`) and its core modules, rewritten by `rewrite` and compiled here;
 * `restorable` when every instance of them can be put back as it was created. The loader is JavaScript that runs unsandboxed in the worker, given no
 * imports for the component: like the server's own code it is trusted, and it is refused
 * unless its stamp says it was built from this very component.
 */
export async function loadComponent(
  path: string,
  bytes: Uint8Array,
  rewrite: CoreRewrite,
): Promise<{ component: ComponentModule; restorable: boolean }> {
  const name = basename(path).replace(/\.wasm$/, '');
  const loaderPath = join(dirname(path), `${name}.js`);
  const loader = await readFile(loaderPath, 'utf8').catch(() => {
    throw new Error(`${path} is a WebAssembly component, and its loader ${loaderPath} is missing: build it with livestate-guest-js`);
  });
  const stamp = LOADER_STAMP.exec(loader)?.[1];
  if (stamp !== createHash('sha256').update(bytes).digest('hex')) {
    throw new Error(`${loaderPath} was not built from ${path} by livestate-guest-js: build it again`);
  }
  const cores: Record<string, WebAssembly.Module> = {};
  let restorable = true;
  for (const [, core] of loader.matchAll(/getCoreModule\('([^'/\\]+\.wasm)'\)/g)) {
    const prepared = rewrite(await readFile(join(dirname(path), core!)));
    restorable &&= prepared.restorable;
    cores[core!] = await WebAssembly.compile(prepared.rewritten);
  }
  if (Object.keys(cores).length === 0) throw new Error(`${loaderPath} loads no core modules: it is not a jco loader`);
  return { component: { loader: `${pathToFileURL(loaderPath).href}?v=${stamp}`, cores }, restorable };
}

/**
 * The module file `path` names: itself, or for a folder (as livestate-guest-js writes
 * one), the one component in it.
 */
export async function handlerFile(path: string): Promise<string> {
  if (!(await stat(path)).isDirectory()) return path;
  const components: string[] = [];
  for (const name of (await readdir(path)).filter((entry) => entry.endsWith('.wasm')).sort()) {
    const file = join(path, name);
    const header = new Uint8Array(COMPONENT_HEADER.length);
    const handle = await open(file);
    try {
      await handle.read(header, 0, header.length, 0);
    } finally {
      await handle.close();
    }
    if (isComponent(header)) components.push(file);
  }
  if (components.length !== 1) {
    throw new Error(`${path} is a folder with ${components.length === 0 ? 'no component' : `${components.length} components`}: name the component file`);
  }
  return components[0]!;
}
