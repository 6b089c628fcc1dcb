import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { GuestCallError, GuestPool, rewriteModule } from '@livestate/server';
import { quietLogger } from './support/clients.js';
import { guestPath } from './support/guests.js';

const SETTINGS = { logLevel: 'info', recycleBytes: 64 * 1024 * 1024, maxOutputBytes: 1024 * 1024, maxKernelBytes: 16 * 1024 * 1024, restorable: false, interruptible: false } as const;

async function loadGuest(pool: GuestPool, name: string): Promise<number> {
  const bytes = rewriteModule(await readFile(guestPath(name)), { maxPages: 256, renameImports: {} });
  return pool.load(await WebAssembly.compile(bytes), SETTINGS, quietLogger);
}

const activeTimers = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;

describe('GuestPool', () => {
  it('close() fails the running call with a clear error and clears its timer', async () => {
    const pool = new GuestPool(1);
    const moduleId = await loadGuest(pool, 'faulty');
    const timersBefore = activeTimers();
    const running = pool.call(moduleId, 'spin', '[{},{"count":0}]', { topic: 'runaway', caller: 'runaway', timeoutMs: 60_000, maxWaiting: 1 });
    const outcome = running.then(
      () => 'resolved',
      (error: unknown) => error,
    );
    await pool.close();
    const settled = await Promise.race([outcome, Promise.resolve('still pending')]);
    assert.ok(settled instanceof GuestCallError, `the call settled: ${String(settled)}`);
    assert.equal(settled.kind, 'closed');
    assert.equal(settled.message, 'the guest pool was closed while the call was running');
    assert.equal(activeTimers(), timersBefore, 'no time-limit timer is left armed');
  });

  it("counts only the guest's own run against the time limit, not starting a worker and an instance", async () => {
    const pool = new GuestPool(1);
    try {
      const moduleId = await loadGuest(pool, 'faulty');
      // A new worker and a new instance take tens of milliseconds; the call itself, microseconds.
      const output = await pool.call(moduleId, 'count', '[{},{"count":0}]', { topic: 't', caller: 'c', timeoutMs: 5, maxWaiting: 1 });
      assert.equal(output, '{"count":1}');
      await assert.rejects(
        pool.call(moduleId, 'spin', '[{},{"count":0}]', { topic: 't', caller: 'c', timeoutMs: 5, maxWaiting: 1 }),
        { kind: 'timeout', message: 'the handler did not finish within 5 ms and was stopped' },
      );
    } finally {
      await pool.close();
    }
  });
});
