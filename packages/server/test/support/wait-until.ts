/**
 * Resolves once `condition` holds, checking again after each turn of the event loop's timers:
 * for a state that no event announces (a key that expires in Redis).
 */
export async function waitUntil(condition: () => boolean | Promise<boolean>, what: string, attempts = 10_000): Promise<void> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`gave up waiting for ${what}`);
}
