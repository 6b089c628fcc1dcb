import type { InlineGuests } from './inline-guests.js';

/**
 * Loads the inline runner, and with it @extism/extism, whose `import "wasi"` makes Node print
 * an ExperimentalWarning, although the server never uses node:wasi (guests get the sandbox of
 * sandbox-wasi.ts): that one warning is dropped while it loads. Workers start with
 * `--disable-warning=ExperimentalWarning` for the same reason.
 */
export async function loadInlineGuests(): Promise<InlineGuests> {
  const emitWarning = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const text = typeof warning === 'string' ? warning : warning.message;
    if (!/\bWASI\b/.test(text)) (emitWarning as (...args: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    const { InlineGuests } = await import('./inline-guests.js');
    return new InlineGuests();
  } finally {
    process.emitWarning = emitWarning;
  }
}
