/**
 * The node every built-in op creates: a gradient formula (declared once, beside the op) plus what
 * the op saved for it. Formulas are written with differentiable tensor ops, so running them with
 * grad mode on (createGraph) records the graph of the gradient itself: higher-order derivatives
 * come for free.
 */
import type { Tensor } from '../tensor/tensor.js';
import { Node, adoptSaved, freedError, releaseSaved, savedInfo, unpackSaved, type Edge, type MaybeGrad, type Saved, type SavedInfo, type TensorMeta } from './node.js';

/** PyTorch's names of saved inputs (`_saved_self`, `_saved_other`). */
const INPUT_NAMES = ['self', 'other'];

export interface GradFormula<A = unknown> {
  /** PyTorch's node name: `MulBackward0`. */
  readonly name: string;
  /** Gradients w.r.t. the op's inputs, one per input (null: none or not needed). */
  backward(gradOutputs: MaybeGrad[], node: OpNode<A>): MaybeGrad[];
  /** Frees what the node keeps beyond its saved values (a cache in its attrs), with them. */
  release?(node: OpNode<A>): void;
}

/** An input slot as the op saw it: a saved tensor (see `Saved`), a JS number operand, or nothing saved. */
export type SavedSlot = Saved | number | null;

/** What `saved` becomes once the node was released: marks it freed without a field of its own. */
const FREED: SavedSlot[] = [];

/** Up to this many slots (inputs, then outputs) are kept in the node's own fields, not an array. */
const INLINE_SLOTS = 2;

/**
 * The gradient the engine lends the running formula (see `OpNode.writable`), or null. One slot for
 * the whole runtime: built-in formulas run one at a time and never start a pass of their own.
 */
let lent: Tensor | null = null;

/**
 * @internal The engine lends `g` to the formula it is about to run (null: takes the loan back).
 * Only a gradient no one else can see may be lent: the pass made it, one buffer slot holds it,
 * no view, hook, caller or graph shares it (`Reclaimer.exclusive`, and no createGraph).
 */
export function lendGrad(g: Tensor | null): void {
  lent = g;
}

export class OpNode<A = unknown> extends Node {
  /**
   * What the op saved, slot by slot: one slot per input (`SavedSlot`), then one per output. A graph
   * holds a node per op and keeps it until backward, so a node with at most two slots (mul's
   * inputs; tanh's input, unsaved, and output) keeps slot 0 here and slot 1 in `_s1`, without an
   * array (64 bytes per node, copied by every young-generation collection); a node with more keeps
   * them all in an array here (`_s1` unused). Null slots (or a null `saved`) hold nothing.
   */
  private saved: SavedSlot[] | SavedSlot;
  /** Slot 1 when the slots are inline (see `saved`). */
  private _s1: SavedSlot = null;

  constructor(
    readonly formula: GradFormula<A>,
    /** One edge per input, or how many inputs (`_setEdge` fills them in while recording). */
    next: readonly Edge[] | number,
    outMeta: readonly TensorMeta[],
    /**
     * How many slots to keep (the inputs, then room for the saved outputs: `_saveOutputs`), or
     * their array, or null: nothing is saved.
     */
    slots: SavedSlot[] | number | null,
    readonly attrs: A,
  ) {
    super(next, outMeta);
    if (typeof slots === 'number') this.saved = slots > INLINE_SLOTS ? nullSlots(slots) : null;
    else if (slots === null || slots.length > INLINE_SLOTS) this.saved = slots;
    else {
      this.saved = null;
      for (let i = 0; i < slots.length; i++) this._setSlot(i, slots[i] ?? null);
    }
  }

  name(): string {
    return this.formula.name;
  }

  /** @internal What the op saved of its outputs (set once, while recording, after the inputs). */
  _saveOutputs(outputs: readonly Saved[]): void {
    const n = this._numEdges();
    if (Array.isArray(this.saved) === false && n + outputs.length > INLINE_SLOTS) {
      // Recorded without room for them (no input slots): the slots move into an array.
      const slots = nullSlots(n + outputs.length);
      for (let i = 0; i < Math.min(n, INLINE_SLOTS); i++) slots[i] = this.slot(i) ?? null;
      this.saved = slots;
      this._s1 = null;
    }
    for (let k = 0; k < outputs.length; k++) this._setSlot(n + k, outputs[k]!);
  }

  /** @internal Slot `i` (inputs first, then outputs), while recording. */
  _setSlot(i: number, v: SavedSlot): void {
    const s = this.saved;
    if (Array.isArray(s)) s[i] = v;
    else if (i === 0) this.saved = v;
    else this._s1 = v;
  }

  /** @internal `_saveOutputs([output0])` of a one-output node, without the array. */
  _saveOutput(output0: Saved): void {
    const n = this._numEdges();
    if (n < INLINE_SLOTS || Array.isArray(this.saved)) this._setSlot(n, output0);
    else this._saveOutputs([output0]);
  }

  /** Slot `i` as recorded (undefined past the last). */
  private slot(i: number): SavedSlot | undefined {
    const s = this.saved;
    if (Array.isArray(s)) return s[i];
    return i === 0 ? s : i === 1 ? this._s1 : undefined;
  }

  /** How many slots the node has room for (inline: two, some of them null). */
  private slotCount(): number {
    const s = this.saved;
    return Array.isArray(s) ? s.length : INLINE_SLOTS;
  }

  /** Released after a backward pass (saved values gone). */
  private get freed(): boolean {
    return this.saved === FREED;
  }

  apply(gradOutputs: MaybeGrad[]): MaybeGrad[] {
    return this.formula.backward(gradOutputs, this);
  }

  /**
   * `g` itself when the engine lent it (see `lendGrad`), for the formula to write its result into
   * instead of a new tensor; null otherwise. Call it only for a result with g's shape and dtype,
   * after the last read of g's values, and at most once: the loan ends here. On a chain of
   * scalars, a new tensor per backward step was a good part of what the step cost.
   */
  writable(g: MaybeGrad): Tensor | null {
    if (g === null || g !== lent) return null;
    lent = null;
    g._ref.version++;
    return g;
  }

  /** Whether input `i` needs a gradient (PyTorch's `needs_input_grad`). */
  needs(i: number): boolean {
    return this._childAt(i) !== null;
  }

  /** Input `i` as saved in forward (a tensor, checked against in-place changes, or a JS number). */
  input(i: number): Tensor | number {
    if (this.freed) throw freedError(this);
    const s = i < this._numEdges() ? this.slot(i) : undefined;
    if (typeof s === 'number') return s;
    if (s === null || s === undefined) throw new Error(`${this.name()}: input ${i} was not saved for backward`);
    return this.unpack(i, s);
  }

  /** Input `i`, which the formula knows to be a tensor. */
  tensor(i: number): Tensor {
    return this.input(i) as Tensor;
  }

  /** Output `i` as saved in forward. */
  output(i = 0): Tensor {
    if (this.freed) throw freedError(this);
    const at = this._numEdges() + i;
    const o = this.slot(at);
    if (o === null || o === undefined || typeof o === 'number') throw new Error(`${this.name()}: output ${i} was not saved for backward`);
    return this.unpack(at, o);
  }

  /** A saved tensor of slot `at`, checked (a bare one is adopted into a `SavedTensor` when it needs one). */
  private unpack(at: number, s: Saved): Tensor {
    const st = adoptSaved(s);
    if (st === null) return s as Tensor;
    this._setSlot(at, st);
    return unpackSaved(st, this);
  }

  override savedInfo(): SavedInfo[] {
    const out: SavedInfo[] = [];
    if (this.freed) return out;
    const n = this._numEdges();
    for (let i = 0, m = this.slotCount(); i < m; i++) {
      const v = this.slot(i);
      if (v === null || v === undefined || typeof v === 'number') continue;
      const name = i < n ? (INPUT_NAMES[i] ?? `input${i}`) : i === n ? 'result' : `result${i - n}`;
      out.push(savedInfo(v, name));
    }
    return out;
  }

  override release(): void {
    if (this.freed) return;
    for (let i = 0, m = this.slotCount(); i < m; i++) {
      const v = this.slot(i);
      if (v !== null && v !== undefined && typeof v !== 'number') releaseSaved(v);
    }
    this.saved = FREED;
    this._s1 = null;
    this.formula.release?.(this);
  }
}

function nullSlots(n: number): SavedSlot[] {
  const a = new Array<SavedSlot>(n);
  for (let i = 0; i < n; i++) a[i] = null;
  return a;
}
