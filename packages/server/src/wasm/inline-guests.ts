import { InterruptWatchdog } from './interrupt-watchdog.js';
import type { GuestLog } from './extism-instance.js';
import { ModuleInstances, type CallOutcome, type CallRequest } from './module-instances.js';
import type { GuestModule, PluginSettings } from './worker-protocol.js';

/** How long a call may run on the server's thread before it is stopped and run on a worker instead. */
export const INLINE_BUDGET_MS = 10;
/** How long a module that overran the budget runs on workers only. */
const DEMOTED_MS = 30_000;

/** A resident call: the state's text is made only if no instance here holds it when the call runs. */
export interface InlineCall extends Omit<CallRequest, 'resident'> {
  stateText(): string;
}

interface InlineModule {
  instances: ModuleInstances;
  /** Until when (ms since the epoch) its calls go to workers: one ran long on a worker too. */
  demotedUntil: number;
  /** A call overran the budget here and runs again on a worker: no state is loaded here until it is judged. */
  suspect: boolean;
}

/**
 * Runs calls of interruptible modules (rewritten with interrupt checks) on the server's own
 * thread, one at a time, without the round trip to a worker thread that a small event costs
 * more than itself. A call that runs past {@link INLINE_BUDGET_MS} is stopped by the
 * watchdog and runs again on a worker. The budget is wall time, which a garbage collection or
 * a busy core can use up too, so the module is judged by that second run: a slow one sends its
 * calls to workers for a while, so that a guest slow on purpose cannot hold the event loop
 * again and again; a quick one clears it.
 */
export class InlineGuests {
  private readonly watchdog = new InterruptWatchdog();
  private readonly modules = new Map<number, InlineModule>();
  private queue: Promise<unknown> = Promise.resolve();

  /** Whether a call of an interruptible module may run here now; `held`: its state is held here. */
  accepts(moduleId: number, held: boolean): boolean {
    const inline = this.modules.get(moduleId);
    return (inline?.demotedUntil ?? 0) <= Date.now() && (held || !inline?.suspect);
  }

  /** The call that overran here took `guestMs` on a worker: a slow one demotes its module. */
  judge(moduleId: number, guestMs: number, log: GuestLog): void {
    const inline = this.modules.get(moduleId);
    if (!inline) return;
    inline.suspect = false;
    if (guestMs < INLINE_BUDGET_MS) return;
    inline.demotedUntil = Date.now() + DEMOTED_MS;
    log('warn', `an event ran past ${INLINE_BUDGET_MS} ms on the server's thread and again on a worker: the module's calls run on worker threads for ${DEMOTED_MS / 1000} s`);
  }

  /**
   * Runs a resident call with `budgetMs` (at most {@link INLINE_BUDGET_MS}), loading the
   * state from `stateText` first unless an instance here holds it when its turn comes;
   * resolves to `overran` when the watchdog stopped it (its state is then dropped here, and
   * the module suspect until {@link judge}).
   */
  run(moduleId: number, guest: GuestModule, settings: PluginSettings, log: GuestLog, call: InlineCall, budgetMs: number): Promise<CallOutcome | 'overran'> {
    const inline = this.moduleOf(moduleId, guest, settings, log);
    return this.inTurn(async () => {
      const { stateText, ...request } = call;
      const resident = inline.instances.holds(call.caller) ? {} : { load: stateText() };
      let token = 0;
      const outcome = await inline.instances.run({ ...request, resident }, (instance) => {
        if (instance.interruptFlag) token = this.watchdog.arm(instance.interruptFlag, Math.min(budgetMs, INLINE_BUDGET_MS));
      });
      this.watchdog.disarm();
      if (outcome.type === 'failed' && token !== 0 && this.watchdog.fired(token)) {
        inline.suspect = true;
        return 'overran' as const;
      }
      return outcome;
    });
  }

  /** Drops the state a caller's instance holds here, after the call running now. */
  evict(moduleId: number, caller: string): void {
    void this.inTurn(async () => this.modules.get(moduleId)?.instances.evict(caller));
  }

  /** Runs `task` after every task queued before it: one call or eviction at a time. */
  private inTurn<T>(task: () => Promise<T>): Promise<T> {
    const turn = this.queue.then(task);
    this.queue = turn.catch(() => undefined);
    return turn;
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
      inline = { instances: this.instancesOf(guest, settings, log), demotedUntil: 0, suspect: false };
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
