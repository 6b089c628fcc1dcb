/** A state a resident module keeps in a worker's instance: the module's id and the caller (state line) it belongs to. */
export interface ResidentState {
  readonly key: string;
  readonly moduleId: number;
  readonly caller: string;
}

export const residentState = (moduleId: number, caller: string): ResidentState => ({ key: `${moduleId} ${caller}`, moduleId, caller });

interface Placed<W> {
  readonly state: ResidentState;
  readonly worker: W;
  readonly bytes: number;
  /** The length of the state's text when it was last loaded there. */
  readonly loadedText: number;
}

/**
 * Which worker holds each resident state (one at most), with the memory of the instance
 * that holds it, least recently used first; and what to drop when a worker's instances
 * together pass the memory budget.
 */
export class ResidentPlacement<W> {
  private readonly placed = new Map<string, Placed<W>>();
  private readonly workerBytes = new Map<W, number>();

  constructor(private readonly budgetBytes: number) {}

  holderOf(key: string): W | undefined {
    return this.placed.get(key)?.worker;
  }

  /** Where a state is held, with the memory and text sizes it was recorded with. */
  placementOf(key: string): Placed<W> | undefined {
    return this.placed.get(key);
  }

  /**
   * Records that `worker` now holds `state` in an instance of `bytes`, loaded from a text of
   * `loadedText` characters (`undefined`: it kept the state it held); returns what must be
   * dropped for it: the state's stale copy on another worker, and the states `worker` used
   * least recently while it is over the budget (except those `busy` says a call is on its way for).
   */
  place(state: ResidentState, worker: W, bytes: number, loadedText: number | undefined, busy: (key: string) => boolean): Array<Placed<W>> {
    const dropped: Array<Placed<W>> = [];
    const previous = this.remove(state.key);
    if (previous && previous.worker !== worker) dropped.push(previous);
    this.placed.set(state.key, { state, worker, bytes, loadedText: loadedText ?? previous?.loadedText ?? Infinity });
    this.workerBytes.set(worker, (this.workerBytes.get(worker) ?? 0) + bytes);
    for (const [key, entry] of this.placed) {
      if (this.workerBytes.get(worker)! <= this.budgetBytes || key === state.key) break;
      if (entry.worker !== worker || busy(key)) continue;
      dropped.push(this.remove(key)!);
    }
    return dropped;
  }

  /** Forgets where a state is held; returns where it was. */
  remove(key: string): Placed<W> | undefined {
    const entry = this.placed.get(key);
    if (!entry) return undefined;
    this.placed.delete(key);
    this.workerBytes.set(entry.worker, this.workerBytes.get(entry.worker)! - entry.bytes);
    return entry;
  }

  /** Forgets every state a worker held (it is gone) or that a module's instances held (it is unloaded). */
  removeWhere(matches: (entry: Placed<W>) => boolean): void {
    for (const [key, entry] of this.placed) if (matches(entry)) this.remove(key);
  }
}
