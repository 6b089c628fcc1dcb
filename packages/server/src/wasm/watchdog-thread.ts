import { parentPort, workerData } from 'node:worker_threads';
import type { WatchdogMessage } from './interrupt-watchdog.js';

/*
 * The watchdog's thread: every few milliseconds it reads which guest call on the server's
 * thread is armed and its deadline, and past the deadline sets that instance's interrupt
 * flag, which the instrumented guest checks at every function entry and loop header.
 */

const { control, intervalMs } = workerData as { control: SharedArrayBuffer; intervalMs: number };
const armed = new Int32Array(control, 0, 2);
const deadline = new Float64Array(control, 8, 1);
const flags = new Map<number, Int32Array>();

parentPort!.on('message', (message: WatchdogMessage) => {
  if (message.type === 'register') flags.set(message.id, new Int32Array(message.flag, 0, 1));
  else flags.delete(message.id);
});

setInterval(() => {
  const id = Atomics.load(armed, 0);
  if (id === 0 || performance.timeOrigin + performance.now() < deadline[0]!) return;
  const flag = flags.get(id);
  if (!flag) return;
  Atomics.store(flag, 0, 1);
  Atomics.store(armed, 1, id);
}, intervalMs);
