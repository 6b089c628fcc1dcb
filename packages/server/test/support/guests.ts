import { fileURLToPath } from 'node:url';

/** A guest fixture built from test/guests by `pnpm build:guests`. */
export const guestPath = (name: string): string =>
  fileURLToPath(new URL(`../../guests/${name}.wasm`, import.meta.url));
