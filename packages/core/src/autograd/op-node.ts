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

export class OpNode<A = unknown> extends Node {
  /**
   * What the op saved, in one field (a graph holds a node per op): null (nothing); its only
   * saved value when that is output 0 and no input slot was kept (tanh, exp, sigmoid: most
   * unary ops); else one slot per input (`SavedSlot`) followed by the saved outputs.
   */
  private saved: SavedSlot[] | Saved | null;

  constructor(
    readonly formula: GradFormula<A>,
    /** One edge per input, or how many inputs (`_setEdge` fills them in while recording). */
    next: readonly Edge[] | number,
    outMeta: readonly TensorMeta[],
    /** One per input, with room after them for the saved outputs (`_saveOutputs`), or null. */
    slots: SavedSlot[] | null,
    readonly attrs: A,
  ) {
    super(next, outMeta);
    this.saved = slots;
  }

  name(): string {
    return this.formula.name;
  }

  /** @internal What the op saved of its outputs (set once, while recording, after the inputs). */
  _saveOutputs(outputs: readonly Saved[]): void {
    if (outputs.length === 1) return this._saveOutput(outputs[0]!);
    const n = this._numEdges();
    let slots = this.saved as SavedSlot[] | null;
    if (slots === null) {
      slots = new Array<SavedSlot>(n + outputs.length);
      for (let i = 0; i < n; i++) slots[i] = null;
      this.saved = slots;
    }
    for (let k = 0; k < outputs.length; k++) slots[n + k] = outputs[k]!;
  }

  /** @internal Input slot `i` (while recording, into the slots the constructor was given). */
  _setSlot(i: number, v: SavedSlot): void {
    (this.saved as SavedSlot[])[i] = v;
  }

  /** @internal `_saveOutputs([output0])` of a one-output node, without the array. */
  _saveOutput(output0: Saved): void {
    const s = this.saved;
    if (s === null) this.saved = output0;
    else (s as SavedSlot[])[this._numEdges()] = output0;
  }

  /** Released after a backward pass (saved values gone). */
  private get freed(): boolean {
    return this.saved === FREED;
  }

  apply(gradOutputs: MaybeGrad[]): MaybeGrad[] {
    return this.formula.backward(gradOutputs, this);
  }

  /** Whether input `i` needs a gradient (PyTorch's `needs_input_grad`). */
  needs(i: number): boolean {
    return this._childAt(i) !== null;
  }

  /** Input `i` as saved in forward (a tensor, checked against in-place changes, or a JS number). */
  input(i: number): Tensor | number {
    if (this.freed) throw freedError(this);
    const slots = this.saved;
    const s = Array.isArray(slots) && i < this._numEdges() ? slots[i] : undefined;
    if (typeof s === 'number') return s;
    if (s === null || s === undefined) throw new Error(`${this.name()}: input ${i} was not saved for backward`);
    const st = adoptSaved(s);
    if (st === null) return s as Tensor;
    (slots as SavedSlot[])[i] = st;
    return unpackSaved(st, this);
  }

  /** Input `i`, which the formula knows to be a tensor. */
  tensor(i: number): Tensor {
    return this.input(i) as Tensor;
  }

  /** Output `i` as saved in forward. */
  output(i = 0): Tensor {
    if (this.freed) throw freedError(this);
    const s = this.saved;
    let at = -1;
    let o: SavedSlot | undefined;
    if (Array.isArray(s)) o = s[(at = this._numEdges() + i)];
    else if (i === 0) o = s;
    if (o === null || o === undefined || typeof o === 'number') throw new Error(`${this.name()}: output ${i} was not saved for backward`);
    const st = adoptSaved(o);
    if (st === null) return o as Tensor;
    if (at < 0) this.saved = st;
    else (s as SavedSlot[])[at] = st;
    return unpackSaved(st, this);
  }

  override savedInfo(): SavedInfo[] {
    const out: SavedInfo[] = [];
    const s = this.saved;
    if (s === null || this.freed) return out;
    if (!Array.isArray(s)) return [savedInfo(s, 'result')];
    const n = this._numEdges();
    for (let i = 0; i < s.length; i++) {
      const v = s[i];
      if (v === null || v === undefined || typeof v === 'number') continue;
      const name = i < n ? (INPUT_NAMES[i] ?? `input${i}`) : i === n ? 'result' : `result${i - n}`;
      out.push(savedInfo(v, name));
    }
    return out;
  }

  override release(): void {
    const s = this.saved;
    if (s === FREED) return;
    if (Array.isArray(s)) {
      for (let i = 0; i < s.length; i++) {
        const v = s[i];
        if (v !== null && v !== undefined && typeof v !== 'number') releaseSaved(v);
      }
    } else if (s !== null) releaseSaved(s);
    this.saved = FREED;
    this.formula.release?.(this);
  }
}
