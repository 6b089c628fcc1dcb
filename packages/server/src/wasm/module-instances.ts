import { instantiateComponent } from './component-instance.js';
import { instantiateExtism, type GuestLog } from './extism-instance.js';
import { GuestError, type GuestInstance } from './guest-instance.js';
import { rewriteModule } from './module-rewriter.js';
import { WasiExit } from './sandbox-wasi.js';
import { LOAD_EXPORT, type FailureKind, type GuestInput, type GuestModule, type PluginSettings, type ResidentCall } from './worker-protocol.js';

/** The most pages a 32-bit memory can have: the module's own maximum, already capped, is what limits it. */
const MAX_PAGES = 65536;
const count = (value: number) => value.toLocaleString('en-US');

/** One call, as a thread that runs guests receives it. */
export interface CallRequest {
  name: string;
  input: GuestInput;
  /** Which state the call is for. */
  caller: string;
  /** Set for a resident module's event. */
  resident?: ResidentCall;
}

/** What became of a call. `residentBytes`: the memory of the resident instance that now holds the caller's state, if one does. */
export type CallOutcome =
  | { type: 'done'; output: string | null; residentBytes?: number }
  | { type: 'failed'; kind: FailureKind; message: string };

/**
 * A module's instances on one thread: for classic calls one instance, put back as it was
 * created before it serves another state; for a resident module also one instance per
 * state it holds, and a spare put back as created for the next state it loads.
 */
export class ModuleInstances {
  private instance: GuestInstance | undefined;
  /** The state the classic instance's last call was for. */
  private caller: string | undefined;
  /** The module again, with its memory starting as large as an instance grew (see {@link startLarger}). */
  private larger: { pages: number; module: Promise<WebAssembly.Module> } | undefined;
  private readonly residents = new Map<string, GuestInstance>();
  private spare: GuestInstance | undefined;

  constructor(
    private readonly guest: GuestModule,
    private readonly settings: PluginSettings,
    private readonly log: GuestLog,
    /** Told of each instance it closes. */
    private readonly closing: (instance: GuestInstance) => void = () => undefined,
  ) {}

  /** Whether an instance holds the caller's resident state. */
  holds(caller: string): boolean {
    return this.residents.has(caller);
  }

  /**
   * Runs a call; `entering` is called just before the guest is entered (after any
   * instance was created), where its time limit starts. Never rejects.
   */
  async run({ name, input, caller, resident }: CallRequest, entering: (instance: GuestInstance) => void): Promise<CallOutcome> {
    try {
      const instance = resident ? await this.residentInstance(caller, resident.load) : await this.classicInstance(caller);
      entering(instance);
      if (resident?.load !== undefined) await instance.call(LOAD_EXPORT, resident.load);
      const output = await instance.call(name, input);
      const { maxOutputBytes, recycleBytes } = this.settings;
      const outputBytes = output?.byteLength ?? 0;
      if (outputBytes > maxOutputBytes) {
        if (resident) await this.evict(caller);
        const message = `${count(outputBytes)} bytes of output, more than the ${count(maxOutputBytes)} allowed (maxOutputBytes)`;
        return { type: 'failed', kind: 'too-large', message };
      }
      const text = output === null ? null : output.text();
      if (instance.memoryBytes > recycleBytes) {
        if (resident) await this.evict(caller);
        else await this.discard();
      }
      // The interrupt flag's page is memory the instance holds too.
      const residentBytes = resident && this.residents.has(caller) ? instance.memoryBytes + (instance.interruptFlag?.byteLength ?? 0) : undefined;
      return { type: 'done', output: text, ...(residentBytes === undefined ? {} : { residentBytes }) };
    } catch (error) {
      if (resident) await this.dropResident(caller, error);
      if (error instanceof GuestError) return { type: 'failed', kind: 'guest-error', message: error.message };
      const text = error instanceof Error ? error.message : String(error);
      if (!resident) await this.discard();
      return { type: 'failed', kind: error instanceof WasiExit ? 'exit' : 'trap', message: text };
    }
  }

  /** Drops the state a caller's resident instance holds. */
  async evict(caller: string): Promise<void> {
    const instance = this.residents.get(caller);
    if (!instance) return;
    this.residents.delete(caller);
    await this.release(instance);
  }

  /** Closes every instance. */
  async close(): Promise<void> {
    const instances = [this.instance, this.spare, ...this.residents.values()];
    this.instance = this.spare = undefined;
    this.residents.clear();
    await Promise.all(instances.map((instance) => instance && this.closeInstance(instance)));
  }

  private async instantiate(): Promise<GuestInstance> {
    const { guest, settings } = this;
    if (guest.kind === 'component') return instantiateComponent(guest, settings.restorable);
    return instantiateExtism((await this.larger?.module) ?? guest.module, settings, this.log);
  }

  /**
   * An instance that grew past its snapshot cannot be reset (the guest's allocator would
   * never use the grown pages again), so it is replaced, at a cost of milliseconds. Its
   * successors start with the memory it grew to: the allocator takes all of it when the
   * instance starts, the snapshot holds it, and later resets stay cheap while the
   * states stay that size.
   */
  private startLarger(memoryBytes: number): void {
    const { guest, settings } = this;
    if (guest.kind !== 'extism' || !guest.bytes || !settings.restorable || memoryBytes > settings.recycleBytes) return;
    const pages = memoryBytes / 65536;
    if (pages <= (this.larger?.pages ?? 0)) return;
    const module = WebAssembly.compile(rewriteModule(guest.bytes, { maxPages: MAX_PAGES, minPages: pages })).catch(() => guest.module);
    this.larger = { pages, module };
  }

  private async discard(): Promise<void> {
    const instance = this.instance;
    this.instance = undefined;
    if (instance) await this.closeInstance(instance);
  }

  /** Keeps an instance that no longer holds a state as the spare, when it can be put back as it was created; closes it otherwise. */
  private async release(instance: GuestInstance): Promise<void> {
    if (!this.spare && instance.reset?.()) {
      this.spare = instance;
      return;
    }
    this.startLarger(instance.memoryBytes);
    await this.closeInstance(instance);
  }

  /** The instance for a classic call: any, put back as it was created when its last call was for another state. */
  private async classicInstance(caller: string): Promise<GuestInstance> {
    if (this.instance && this.caller !== caller && !this.instance.reset?.()) {
      this.startLarger(this.instance.memoryBytes);
      await this.discard();
    }
    this.instance ??= await this.instantiate();
    this.caller = caller;
    return this.instance;
  }

  /** The instance that holds, or is about to load, the caller's state: no other state ever reaches it. */
  private async residentInstance(caller: string, load: string | undefined): Promise<GuestInstance> {
    if (load === undefined) {
      const instance = this.residents.get(caller);
      if (!instance) throw new Error(`no instance here holds the state of ${caller}`);
      return instance;
    }
    await this.evict(caller);
    const instance = this.spare ?? (await this.instantiate());
    this.spare = undefined;
    this.residents.set(caller, instance);
    return instance;
  }

  /**
   * After a failed call, the caller's state in its resident instance may be half changed:
   * it is dropped (the host loads it again), and the instance kept as the spare only when the
   * guest failed on purpose; after a trap it is closed.
   */
  private async dropResident(caller: string, error: unknown): Promise<void> {
    const instance = this.residents.get(caller);
    if (!instance) return;
    this.residents.delete(caller);
    if (error instanceof GuestError) await this.release(instance);
    else await this.closeInstance(instance);
  }

  private async closeInstance(instance: GuestInstance): Promise<void> {
    this.closing(instance);
    await instance.close().catch(() => undefined);
  }
}
