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
 * The count lives on the tensor (`Tensor._claim`, a `Claim` naming the pass that owns it), and
 * the pass links its claims in a list for the end of the pass. Every node step makes, holds and
 * frees a few gradients: a map from tensors to counts cost as much as the rest of the step (each
 * new key needs an identity hash from the runtime, and the table rehashes as keys come and go).
 */
import type { Runtime } from '../runtime/runtime.js';
import type { Tensor } from '../tensor/tensor.js';

/** A step's `made` list is truncated (which drops its storage) only once it has grown this long. */
const MADE_KEEP = 64;

/**
 * A pass's claim on a tensor it made: how many gradient buffer slots hold it. The pass reuses the
 * claims it gave up (see `Reclaimer.spare`), so `tensor` and the counts change over its life.
 */
class Claim {
  prev: Claim | null = null;
  next: Claim | null = null;
  constructor(
    readonly owner: Reclaimer,
    public tensor: Tensor,
    public slots: number,
    /** Made by a custom Function's backward, which may keep it: never written in place. */
    public foreign: boolean,
  ) {}
}

export class Reclaimer {
  /** The claims this pass still holds (a list: added and removed in O(1), walked at the end). */
  private claims: Claim | null = null;
  /**
   * Claims given up, linked by `next`, for the next `claim`: a chain's pass claims and gives up
   * one or two gradients per node, and a claim object each was a tenth of its garbage.
   */
  private spare: Claim | null = null;
  /** Seen by user code or handed to the caller: never freed here. */
  private readonly escaped = new Set<Tensor>();
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
    if (this.enabled && this.claimOf(t) === null) this.claim(t, 0, false);
  }

  /** `t` becomes a leaf's `.grad` as it is: the pass no longer owns it. */
  handOver(t: Tensor): void {
    const c = this.claimOf(t);
    if (c !== null) this.unclaim(c);
  }

  /** A buffer slot now holds `t` (counted only for what the pass owns: nothing else is freed). */
  hold(t: Tensor): void {
    if (!this.enabled) return;
    const c = this.claimOf(t);
    if (c !== null) c.slots++;
    else if (this.madeInStep(t)) this.claim(t, 1, !this.stepFrees);
  }

  /**
   * Whether the one buffer slot that holds `t` may add into it in place: the pass made it, no user
   * code saw it, no other slot, tensor object or graph shares it, and it overlaps nothing.
   */
  exclusive(t: Tensor): boolean {
    const c = this.claimOf(t);
    return (
      c !== null &&
      c.slots === 1 &&
      !c.foreign &&
      t._ref.account.refs === 1 &&
      t._pins === 0 &&
      t._base === null &&
      !this.seen(t) &&
      t.isContiguous()
    );
  }

  /** A buffer slot that held `t` was consumed; the last one frees it. */
  release(t: Tensor | null | undefined): void {
    if (!t) return;
    const c = this.claimOf(t);
    if (c === null) return;
    if (c.slots > 1) c.slots--;
    else if (this.seen(t)) c.slots = 0;
    else {
      this.unclaim(c);
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
      if (this.claimOf(t) !== null) continue;
      if (this.stepFrees && !this.seen(t)) t.dispose();
      else this.claim(t, 0, !this.stepFrees);
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
    for (let c = this.claims; c !== null; c = c.next) {
      c.tensor._claim = null;
      if (outer !== null && !c.tensor.isDisposed) outer.push(c.tensor);
    }
    this.claims = null;
  }

  /**
   * The pass failed: what it made and no user code saw (buffered gradients, temporaries, the
   * implicit root gradient) is freed now, as nothing will consume it.
   */
  abort(): void {
    if (!this.enabled) return;
    const made = this.made;
    for (let i = this.stepStart; i < made.length; i++) if (this.claimOf(made[i]!) === null) this.claim(made[i]!, 0, false);
    made.length = 0;
    this.stepStart = 0;
    for (let c = this.claims; c !== null; c = c.next) {
      c.tensor._claim = null;
      if (!this.escaped.has(c.tensor)) c.tensor.dispose();
    }
    this.claims = null;
  }

  /** A gradient meant for the caller, who will not receive it (the call fails): freed if the pass made it. */
  discard(t: Tensor | null | undefined): void {
    const c = t ? this.claimOf(t) : null;
    if (c === null) return;
    this.unclaim(c);
    c.tensor.dispose();
  }

  private claimOf(t: Tensor): Claim | null {
    const c = t._claim as Claim | null;
    return c !== null && c.owner === this ? c : null;
  }

  private claim(t: Tensor, slots: number, foreign: boolean): void {
    let c = this.spare;
    if (c === null) c = new Claim(this, t, slots, foreign);
    else {
      this.spare = c.next;
      c.tensor = t;
      c.slots = slots;
      c.foreign = foreign;
      c.prev = null;
    }
    c.next = this.claims;
    if (this.claims !== null) this.claims.prev = c;
    this.claims = c;
    t._claim = c;
  }

  private unclaim(c: Claim): void {
    if (c.prev !== null) c.prev.next = c.next;
    else this.claims = c.next;
    if (c.next !== null) c.next.prev = c.prev;
    c.tensor._claim = null;
    c.next = this.spare;
    this.spare = c;
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
