import { parentPort, workerData } from 'node:worker_threads';
import { EntryMark } from './entry-mark.js';
import { ModuleInstances } from './module-instances.js';
import type { FromWorker, ToWorker } from './worker-protocol.js';

/*
 * A worker thread that runs guest calls, one at a time, on in-process Extism
 * plugins and on transpiled components. The pool ends a runaway call by
 * terminating this thread, which is why guests run here and not on the server's
 * event loop.
 */

const port = parentPort!;
const entryMark = new EntryMark((workerData as { entryMark: SharedArrayBuffer }).entryMark);
const modules = new Map<number, ModuleInstances>();
const send = (message: FromWorker) => port.postMessage(message);
let calls = Promise.resolve();

port.on('message', (message: ToWorker) => {
  switch (message.type) {
    case 'load': {
      const { moduleId } = message;
      modules.set(moduleId, new ModuleInstances(message.guest, message.settings, (level, text) => send({ type: 'log', moduleId, level, message: text })));
      break;
    }
    case 'unload':
      void modules.get(message.moduleId)?.close();
      modules.delete(message.moduleId);
      break;
    case 'evict':
      for (const caller of message.callers) void modules.get(message.moduleId)?.evict(caller);
      break;
    case 'call': {
      // One call at a time, in the order sent: the pool may send the next before this one ends.
      const { callId, moduleId } = message;
      const instances = modules.get(moduleId);
      calls = calls
        .then(() => instances?.run(message, () => entryMark.enter(callId)) ?? { type: 'failed' as const, kind: 'trap' as const, message: `module ${moduleId} is not loaded` })
        .then((outcome) => send({ ...outcome, callId, guestMs: entryMark.elapsed(callId) ?? 0 }));
      break;
    }
  }
});
