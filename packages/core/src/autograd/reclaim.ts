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
 */
import type { Runtime } from '../runtime/runtime.js';
import type { Tensor } from '../tensor/tensor.js';

export class Reclaimer {
  /** Made by this pass, so the pass may free them. */
  private readonly owned = new Set<Tensor>();
  /** How many gradient buffer slots hold each tensor. */
  private readonly uses = new Map<Tensor, number>();
  /** Seen by user code or handed to the caller: never freed here. */
  private readonly escaped = new Set<Tensor>();
  /** Made by a custom Function's backward, which may keep them: never written in place. */
  private readonly foreign = new Set<Tensor>();
  private made: Tensor[] = [];
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

  /** From now on, tensors made by ops belong to the current node's step. */
  watch(): void {
    if (this.enabled) this.rt._created = this.made;
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
    if (this.enabled) this.owned.add(t);
  }

  /** A buffer slot now holds `t`. */
  hold(t: Tensor): void {
    if (this.enabled) this.uses.set(t, (this.uses.get(t) ?? 0) + 1);
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
      this.uses.get(t) === 1 &&
      this.owned.has(t) &&
      !this.seen(t) &&
      (this.foreign.size === 0 || !this.foreign.has(t)) &&
      t.isContiguous()
    );
  }

  /** A buffer slot that held `t` was consumed. */
  release(t: Tensor | null | undefined): void {
    if (!this.enabled || !t) return;
    const n = (this.uses.get(t) ?? 0) - 1;
    if (n > 0) {
      this.uses.set(t, n);
      return;
    }
    this.uses.delete(t);
    this.free(t);
  }

  /**
   * Ends a node's step: what it made is the pass's; of that, what no slot holds is freed now when
   * `freeTemporaries` (built-in formulas, which keep nothing).
   */
  settle(freeTemporaries: boolean): void {
    if (!this.enabled) return;
    this.rt._created = null;
    // One array for every step (a fresh `[]` would grow to 17 slots per node).
    const made = this.made;
    for (const t of made) {
      this.owned.add(t);
      if (!freeTemporaries) this.foreign.add(t);
      if (freeTemporaries && !this.uses.has(t)) this.free(t);
    }
    made.length = 0;
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
    for (const t of this.owned) if (!t.isDisposed) outer.push(t);
  }

  /**
   * The pass failed: what it made and no user code saw (buffered gradients, temporaries, the
   * implicit root gradient) is freed now, as nothing will consume it.
   */
  abort(): void {
    if (!this.enabled) return;
    for (const t of this.made) this.owned.add(t);
    this.made = [];
    for (const t of this.owned) if (!this.escaped.has(t)) t.dispose();
    this.owned.clear();
  }

  /** A gradient meant for the caller, who will not receive it (the call fails): freed if the pass made it. */
  discard(t: Tensor | null | undefined): void {
    if (!this.enabled || !t || !this.owned.has(t)) return;
    this.owned.delete(t);
    t.dispose();
  }

  /** User code saw `t` (or a caller receives it). */
  private seen(t: Tensor): boolean {
    return this.escaped.size !== 0 && this.escaped.has(t);
  }

  private free(t: Tensor): void {
    if (this.owned.has(t) && !this.seen(t)) {
      this.owned.delete(t);
      t.dispose();
    }
  }
}
