import { InterruptWatchdog } from './interrupt-watchdog.js';
import type { GuestLog } from './extism-instance.js';
import { ModuleInstances, type CallOutcome, type CallRequest } from './module-instances.js';
import type { GuestModule, PluginSettings } from './worker-protocol.js';

/** How long a call may run on the server's thread before it is stopped and run on a worker instead. */
export const INLINE_BUDGET_MS = 10;
/** How long a module that overran the budget runs on workers only. */
const DEMOTED_MS = 30_000;

interface InlineModule {
  instances: ModuleInstances;
  /** Until when (ms since the epoch) its calls go to workers: it overran the budget. */
  demotedUntil: number;
}

/**
 * Runs calls of interruptible modules (rewritten with interrupt checks) on the server's own
 * thread, one at a time, without the round trip to a worker thread that a small event costs
 * more than itself. A call that runs past {@link INLINE_BUDGET_MS} is stopped by the
 * watchdog, and its module's calls go to workers for a while: the event loop is held at
 * most that long, and a guest that is slow on purpose cannot hold it again and again.
 */
export class InlineGuests {
  private readonly watchdog = new InterruptWatchdog();
  private readonly modules = new Map<number, InlineModule>();
  private queue: Promise<unknown> = Promise.resolve();

  /** Whether the module's calls may run here now. */
  accepts(moduleId: number, settings: PluginSettings): boolean {
    return settings.interruptible && (this.modules.get(moduleId)?.demotedUntil ?? 0) <= Date.now();
  }

  /**
   * Runs a call with `budgetMs` (at most {@link INLINE_BUDGET_MS}); resolves to `overran`
   * when the watchdog stopped it: the module is then demoted, and every state it held here dropped.
   */
  run(moduleId: number, guest: GuestModule, settings: PluginSettings, log: GuestLog, request: CallRequest, budgetMs: number): Promise<CallOutcome | 'overran'> {
    const inline = this.moduleOf(moduleId, guest, settings, log);
    const run = this.queue.then(async () => {
      let token = 0;
      const outcome = await inline.instances.run(request, (instance) => {
        if (instance.interruptFlag) token = this.watchdog.arm(instance.interruptFlag, Math.min(budgetMs, INLINE_BUDGET_MS));
      });
      this.watchdog.disarm();
      if (outcome.type === 'failed' && token !== 0 && this.watchdog.fired(token)) {
        inline.demotedUntil = Date.now() + DEMOTED_MS;
        log('warn', `"${request.name}" ran past ${INLINE_BUDGET_MS} ms on the server's thread: the module's calls run on worker threads for ${DEMOTED_MS / 1000} s`);
        const stopped = inline.instances;
        inline.instances = this.instancesOf(guest, settings, log);
        await stopped.close();
        return 'overran' as const;
      }
      return outcome;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Drops the state a caller's instance holds here. */
  evict(moduleId: number, caller: string): void {
    void this.modules.get(moduleId)?.instances.evict(caller);
  }

  async unload(moduleId: number): Promise<void> {
    const inline = this.modules.get(moduleId);
    this.modules.delete(moduleId);
    await inline?.instances.close();
  }

  async close(): Promise<void> {
    await Promise.all([...this.modules.keys()].map((moduleId) => this.unload(moduleId)));
    await this.watchdog.close();
  }

  private moduleOf(moduleId: number, guest: GuestModule, settings: PluginSettings, log: GuestLog): InlineModule {
    let inline = this.modules.get(moduleId);
    if (!inline) {
      inline = { instances: this.instancesOf(guest, settings, log), demotedUntil: 0 };
      this.modules.set(moduleId, inline);
    }
    return inline;
  }

  private instancesOf(guest: GuestModule, settings: PluginSettings, log: GuestLog): ModuleInstances {
    return new ModuleInstances(guest, settings, log, (instance) => {
      if (instance.interruptFlag) this.watchdog.forget(instance.interruptFlag);
    });
  }
}
