/**
 * Frees, during a backward pass, the tensors the pass itself made once nothing needs them: the
 * temporaries inside gradient formulas and the gradients a node has consumed. PyTorch gets this
 * from reference counting; here the garbage collector would get it eventually, but on a GPU
 * "eventually" means thousands of device buffers held between collections in a training loop.
 *
 * The rules are conservative. Nothing is freed when the pass builds a graph (`createGraph`: the
 * gradients may be saved by that graph), nothing a user hook has seen or a caller receives
 * (`escape`), nothing the pass did not make (user-supplied output gradients), and of what a custom
 * `Function`'s backward makes only the gradients it returned, never its other tensors (it may keep
 * them). Each gradient counts the buffer slots that hold it and is freed when the last one is
 * consumed. What is left when the pass ends is handed to an enclosing `tidy`, if any.
 *
 * One map does the bookkeeping: a tensor is in `slots` while the pass owns it, with the number of
 * gradient buffer slots that hold it. Every node step adds and removes a few entries, so it is the
 * pass's hottest data structure after the nodes themselves.
 */
import type { Runtime } from '../runtime/runtime.js';
import type { Tensor } from '../tensor/tensor.js';

/** A step's `made` list is truncated (which drops its storage) only once it has grown this long. */
const MADE_KEEP = 64;

export class Reclaimer {
  /** Made by this pass and not freed yet, with how many gradient buffer slots hold each. */
  private readonly slots = new Map<Tensor, number>();
  /** Seen by user code or handed to the caller: never freed here. */
  private readonly escaped = new Set<Tensor>();
  /** Made by a custom Function's backward, which may keep them: never written in place. */
  private readonly foreign = new Set<Tensor>();
  /**
   * What ops made while a node step ran (the runtime's collector points here). Entries before
   * `stepStart` belong to earlier, settled steps: the array is reused rather than emptied, since
   * truncating it to 0 frees its storage and the next step would grow a new one.
   */
  private readonly made: Tensor[] = [];
  private stepStart = 0;
  /** The running step's formula keeps nothing it made (a built-in one): its temporaries can go. */
  private stepFrees = true;
  /** The collection (if any) of an enclosing backward pass, put back when this one ends. */
  private readonly outer: Tensor[] | null;

  constructor(
    private readonly rt: Runtime,
    readonly enabled: boolean,
  ) {
    this.outer = rt._created;
    // Between node steps nothing is collected: what accumulation makes (.grad) outlives any tidy.
    // A pass that builds a graph frees nothing itself, so an enclosing tidy collects all it makes
    // (accumulation marks the .grad it keeps).
    if (enabled) rt._created = null;
  }

  /**
   * From now on, tensors made by ops belong to the current node's step. `freesTemporaries`: the
   * node is a built-in formula, which keeps nothing (a custom Function's backward may).
   */
  watch(freesTemporaries: boolean): void {
    if (!this.enabled) return;
    this.stepFrees = freesTemporaries;
    this.rt._created = this.made;
  }

  /** Runs user code (hooks) without claiming what it makes. */
  unwatched<T>(fn: () => T): T {
    const prev = this.rt._created;
    this.rt._created = null;
    try {
      return fn();
    } finally {
      this.rt._created = prev;
    }
  }

  escape(t: Tensor | null | undefined): void {
    if (this.enabled && t) this.escaped.add(t);
  }

  /** The pass made `t` outside a node step (the implicit gradient of a scalar root). */
  own(t: Tensor): void {
    if (this.enabled && !this.slots.has(t)) this.slots.set(t, 0);
  }

  /** `t` becomes a leaf's `.grad` as it is: the pass no longer owns it. */
  handOver(t: Tensor): void {
    if (this.enabled) this.slots.delete(t);
  }

  /** A buffer slot now holds `t` (counted only for what the pass owns: nothing else is freed). */
  hold(t: Tensor): void {
    if (!this.enabled) return;
    const n = this.slots.get(t);
    if (n !== undefined) this.slots.set(t, n + 1);
    else if (this.madeInStep(t)) {
      this.slots.set(t, 1);
      if (!this.stepFrees) this.foreign.add(t);
    }
  }

  /**
   * Whether the one buffer slot that holds `t` may add into it in place: the pass made it, no user
   * code saw it, no other slot, tensor object or graph shares it, and it overlaps nothing.
   */
  exclusive(t: Tensor): boolean {
    // Fields first, then the sets (escaped and foreign are empty unless hooks or Functions ran).
    return (
      this.enabled &&
      t._ref.account.refs === 1 &&
      t._pins === 0 &&
      t._base === null &&
      this.slots.get(t) === 1 &&
      !this.seen(t) &&
      (this.foreign.size === 0 || !this.foreign.has(t)) &&
      t.isContiguous()
    );
  }

  /** A buffer slot that held `t` was consumed; the last one frees it. */
  release(t: Tensor | null | undefined): void {
    if (!this.enabled || !t) return;
    const n = this.slots.get(t);
    if (n === undefined) return;
    if (n > 1) this.slots.set(t, n - 1);
    else if (this.seen(t)) this.slots.set(t, 0);
    else {
      this.slots.delete(t);
      t.dispose();
    }
  }

  /**
   * Ends a node's step: what it made is the pass's; of that, what no slot holds is freed now when
   * the step's formula is a built-in one (it keeps nothing).
   */
  settle(): void {
    if (!this.enabled) return;
    this.rt._created = null;
    const made = this.made;
    for (let i = this.stepStart; i < made.length; i++) {
      const t = made[i]!;
      if (this.slots.has(t)) continue;
      if (this.stepFrees && !this.seen(t)) t.dispose();
      else {
        this.slots.set(t, 0);
        if (!this.stepFrees) this.foreign.add(t);
      }
    }
    if (made.length > MADE_KEEP) made.length = 0;
    this.stepStart = made.length;
  }

  /**
   * Gives the runtime back to an enclosing pass or `tidy` (always called, errors included). What
   * the pass made and could not free itself (gradients a hook saw or the caller receives, a custom
   * Function's other tensors) goes to the enclosing collector, so a `tidy` around the backward
   * frees it unless it returns or keeps it.
   */
  end(): void {
    const outer = this.outer;
    this.rt._created = outer;
    if (outer === null || !this.enabled) return;
    for (const t of this.slots.keys()) if (!t.isDisposed) outer.push(t);
  }

  /**
   * The pass failed: what it made and no user code saw (buffered gradients, temporaries, the
   * implicit root gradient) is freed now, as nothing will consume it.
   */
  abort(): void {
    if (!this.enabled) return;
    const made = this.made;
    for (let i = this.stepStart; i < made.length; i++) if (!this.slots.has(made[i]!)) this.slots.set(made[i]!, 0);
    made.length = 0;
    this.stepStart = 0;
    for (const t of this.slots.keys()) if (!this.escaped.has(t)) t.dispose();
    this.slots.clear();
  }

  /** A gradient meant for the caller, who will not receive it (the call fails): freed if the pass made it. */
  discard(t: Tensor | null | undefined): void {
    if (!this.enabled || !t || !this.slots.has(t)) return;
    this.slots.delete(t);
    t.dispose();
  }

  /** `t` was made by the running step (a short scan: a step makes a handful of tensors). */
  private madeInStep(t: Tensor): boolean {
    const made = this.made;
    for (let i = made.length - 1; i >= this.stepStart; i--) if (made[i] === t) return true;
    return false;
  }

  /** User code saw `t` (or a caller receives it). */
  private seen(t: Tensor): boolean {
    return this.escaped.size !== 0 && this.escaped.has(t);
  }
}
