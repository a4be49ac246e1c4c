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
}

/** An input slot as the op saw it: a saved tensor (see `Saved`), a JS number operand, or nothing saved. */
export type SavedSlot = Saved | number | null;

/** What `slots` becomes once the node was released: marks it freed without a field of its own. */
const FREED: SavedSlot[] = [];

export class OpNode<A = unknown> extends Node {
  constructor(
    readonly formula: GradFormula<A>,
    /** One edge per input, or how many inputs (`_setEdge` fills them in while recording). */
    next: readonly Edge[] | number,
    outMeta: readonly TensorMeta[],
    private slots: SavedSlot[] | null,
    /** One per output; a one-output node holds its saved output without an array (most nodes). */
    private savedOutputs: Saved[] | Saved | null,
    readonly attrs: A,
  ) {
    super(next, outMeta);
  }

  name(): string {
    return this.formula.name;
  }

  /** @internal What the op saved of its outputs (set once, while recording). */
  _saveOutputs(saved: Saved[] | Saved): void {
    this.savedOutputs = saved;
  }

  /** Released after a backward pass (saved values gone). */
  private get freed(): boolean {
    return this.slots === FREED;
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
    const slots = this.slots;
    const s = slots === null ? undefined : slots[i];
    if (typeof s === 'number') return s;
    if (s === null || s === undefined) throw new Error(`${this.name()}: input ${i} was not saved for backward`);
    const st = adoptSaved(s);
    if (st === null) return s as Tensor;
    slots![i] = st;
    return unpackSaved(st, this);
  }

  /** Input `i`, which the formula knows to be a tensor. */
  tensor(i: number): Tensor {
    return this.input(i) as Tensor;
  }

  /** Output `i` as saved in forward. */
  output(i = 0): Tensor {
    if (this.freed) throw freedError(this);
    const so = this.savedOutputs;
    const one = so === null || Array.isArray(so) ? null : (so as Saved);
    const s = one !== null ? (i === 0 ? one : undefined) : (so as Saved[] | null)?.[i];
    if (!s) throw new Error(`${this.name()}: output ${i} was not saved for backward`);
    const st = adoptSaved(s);
    if (st === null) return s as Tensor;
    if (one !== null) this.savedOutputs = st;
    else (so as Saved[])[i] = st;
    return unpackSaved(st, this);
  }

  override savedInfo(): SavedInfo[] {
    const out: SavedInfo[] = [];
    this.slots?.forEach((s, i) => {
      if (s !== null && typeof s !== 'number') out.push(savedInfo(s, INPUT_NAMES[i] ?? `input${i}`));
    });
    this.outputsSaved().forEach((s, i) => out.push(savedInfo(s, i === 0 ? 'result' : `result${i}`)));
    return out;
  }

  private outputsSaved(): readonly Saved[] {
    const so = this.savedOutputs;
    return so === null ? [] : Array.isArray(so) ? so : [so];
  }

  override release(): void {
    if (this.freed) return;
    const slots = this.slots;
    if (slots !== null) {
      for (let i = 0; i < slots.length; i++) {
        const s = slots[i];
        if (s !== null && s !== undefined && typeof s !== 'number') releaseSaved(s);
      }
    }
    const so = this.savedOutputs;
    if (so !== null) {
      if (Array.isArray(so)) for (const s of so) releaseSaved(s);
      else releaseSaved(so);
    }
    this.slots = FREED;
    this.savedOutputs = null;
  }
}
