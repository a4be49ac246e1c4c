/**
 * In-place ops (`add_`, `mul_`, `copy_`, `fill_`, ...).
 *
 * Without autograd they write straight into the tensor. With autograd the new value is computed
 * out of place (recording the op's node as usual, from an alias that stands for the *old* value),
 * written into the tensor's storage, and the tensor's history is rebased onto that node; on a view,
 * the base's history becomes a CopySlices node and the view is rebuilt from it. Every write bumps
 * the storage's version counter, which is how saved tensors notice they were overwritten.
 */
import { NablaError, fmtShape } from '../errors.js';
import { isFloating, type DType } from '../dtype.js';
import { gradNode, gradNr } from '../autograd/edges.js';
import { AccumulateGrad } from '../autograd/accumulate-grad.js';
import { Tensor } from '../tensor/tensor.js';
import * as E from '../expr/build.js';
import { alias, firstTensor, needsGrad, promote, record, type Operand } from './dispatch.js';
import { defineElementwise, runElementwise, type ElementwiseOpDef } from './elementwise/define.js';
import { identity } from './elementwise/table.js';
import { broadcastShapes } from '../shape.js';
import { copyContiguous, copySlicesGrad } from './view.js';

/** The autograd rules for writing into `t` (PyTorch's check_inplace). */
function checkInplace(t: Tensor, op: string, grad: boolean): void {
  t._alive(op);
  if (t._inference && !t.rt.gradMode.inference) {
    throw new NablaError('Inplace update to inference tensor outside InferenceMode is not allowed.', { op });
  }
  if (!grad) return;
  if (t._gradFn === null && t._requiresGrad) {
    throw new NablaError('a leaf Variable that requires grad is being used in an in-place operation.', { op });
  }
  const base = t._base;
  if (base !== null && base._gradFn === null && base._requiresGrad) {
    throw new NablaError('a view of a leaf Variable that requires grad is being used in an in-place operation.', { op });
  }
}

/** PyTorch refuses to store a wider kind into a narrower dtype (float into int, int into bool). */
function checkCast(t: Tensor, result: DType, op: string): void {
  const rank = (d: DType): number => (d === 'bool' ? 0 : d === 'int32' ? 1 : 2);
  if (rank(result) > rank(t.dtype) || (isFloating(result) && !isFloating(t.dtype))) {
    throw new NablaError(`result type ${result} can't be cast to the desired output type ${t.dtype}`, { op });
  }
}

/** Gives `t` the value of `r` (computed with graph) and makes r's node its history. */
function commit(t: Tensor, r: Tensor): void {
  runElementwise(identity, [r], undefined, t);
  t._ref.version++;
  const base = t._base;
  if (base === null) {
    t._gradFn = r._gradFn;
    t._outputNr = r._outputNr;
  } else if (r._gradFn !== null) {
    // The base now equals "old base with the view's window replaced by r".
    const fn = t._viewFn!;
    const oldBase = aliasOfGraph(base);
    record(copySlicesGrad, [oldBase, r], [base], { attrs: { fn } });
    oldBase.dispose();
    const gm = t.rt.gradMode;
    const rebuilt = gm.run(true, false, () => fn(base));
    t._gradFn = rebuilt._gradFn;
    t._outputNr = rebuilt._outputNr;
    t._viewVersion = t._ref.version;
    rebuilt.dispose();
  }
  r.dispose();
}

/** A tensor standing for `t`'s current place in the graph (shares storage; no new node). */
function aliasOfGraph(t: Tensor): Tensor {
  const node = gradNode(t);
  const nr = gradNr(t);
  const a = alias(t, t.shape, t._strides, t._offset);
  if (node instanceof AccumulateGrad) {
    a._requiresGrad = true;
    a._accNode = node;
  } else {
    a._gradFn = node;
    a._outputNr = nr;
  }
  return a;
}

/** The old value of `t` for a formula that saves its inputs: a private copy in t's graph place. */
function oldValue(t: Tensor, keepsValue: boolean): Tensor {
  const a = aliasOfGraph(t);
  if (!keepsValue) return a;
  const c = copyContiguous(t);
  c._gradFn = a._gradFn;
  c._outputNr = a._outputNr;
  c._requiresGrad = a._requiresGrad;
  c._accNode = a._accNode;
  a.dispose();
  return c;
}

function sameGeometry(a: Tensor, b: Tensor): boolean {
  return (
    a._offset === b._offset &&
    a.shape.length === b.shape.length &&
    a.shape.every((d, i) => d === b.shape[i]) &&
    a._strides.every((s, i) => s === b._strides[i])
  );
}

/**
 * Runs elementwise `def` with `t` as operand 0 (when `selfIsOperand`) and writes the result into `t`.
 */
export function inplaceElementwise(
  op: string,
  def: ElementwiseOpDef,
  t: Tensor,
  others: readonly Operand[],
  params?: readonly number[],
): Tensor {
  const operands: Operand[] = [t, ...others];
  firstTensor(op, operands);
  const grad = needsGrad(t.rt, operands);
  checkInplace(t, op, grad);
  let shape: readonly number[] = t.shape;
  for (const o of others) if (o instanceof Tensor) shape = broadcastShapes(shape, o.shape, op);
  if (shape.length !== t.shape.length || shape.some((d, i) => d !== t.shape[i])) {
    throw new NablaError(`output with shape ${fmtShape(t.shape)} doesn't match the broadcast shape ${fmtShape(shape)}`, { op });
  }
  if (def.dtype !== 'first') checkCast(t, def.dtype === 'bool' ? 'bool' : promote(operands), op);

  if (!grad) {
    // Another operand over the same memory but other geometry would be read after being written.
    const safe = operands.map((o, i) => (i > 0 && o instanceof Tensor && o._ref === t._ref && !sameGeometry(o, t) ? copyContiguous(o) : o));
    runElementwise(def, safe, params, t);
    // (Compared as objects: a NaN scalar operand is !== itself.)
    for (let i = 1; i < safe.length; i++) if (safe[i] instanceof Tensor && safe[i] !== operands[i]) (safe[i] as Tensor).dispose();
    t._ref.version++;
    return t;
  }
  const keeps = def.grad?.save === 'inputs' || def.grad?.save === 'both';
  const old = oldValue(t, keeps);
  const r = runElementwise(def, [old, ...others], params);
  old.dispose();
  commit(t, r);
  return t;
}

// In-place-only defs: the value comes from the other operand or a parameter; `self` gets a zero gradient.
export const copyFrom = defineElementwise({
  name: 'copy_',
  arity: 2,
  expr: E.input(1),
  dtype: 'first',
  grad: { name: 'CopyBackwards', save: 'none', backward: (g) => [g.mul(0), g] },
});
export const fillWith = defineElementwise({
  name: 'fill_',
  arity: 1,
  numParams: 1,
  expr: E.param(0),
  dtype: 'first',
  grad: { name: 'FillBackward0', save: 'none', backward: (g) => [g.mul(0)] },
});
export const zeroFill = defineElementwise({
  name: 'zero_',
  arity: 1,
  expr: E.c(0),
  dtype: 'first',
  grad: { name: 'ZeroBackward0', save: 'none', backward: (g) => [g.mul(0)] },
});

export function requiresGrad_(t: Tensor, flag = true): Tensor {
  t._alive('requiresGrad_');
  t._setRequiresGrad(flag, 'requiresGrad_');
  return t;
}

export function detach_(t: Tensor): Tensor {
  t._alive('detach_');
  // PyTorch refuses every view, not only those with a history: the base would silently share it.
  if (t._base !== null) {
    throw new NablaError("Can't detach views in-place. Use detach() instead.", { op: 'detach_' });
  }
  t._gradFn = null;
  t._outputNr = 0;
  t._requiresGrad = false;
  return t;
}

/**
 * An in-place op whose new value `compute(old)` is built from other ops (indexPut_, maskedScatter_):
 * the same autograd rules and history rewriting as the elementwise in-place ops. `keepsValue`:
 * the computation's gradient reads the old value, so it gets a private copy.
 */
export function inplaceCompute(op: string, t: Tensor, operands: readonly Operand[], compute: (old: Tensor) => Tensor, keepsValue = false): Tensor {
  firstTensor(op, [t, ...operands]);
  const grad = needsGrad(t.rt, [t, ...operands]);
  checkInplace(t, op, grad);
  if (!grad) {
    const gm = t.rt.gradMode;
    const r = gm.run(false, gm.inference, () => compute(t));
    runElementwise(identity, [r], undefined, t);
    r.dispose();
    t._ref.version++;
    return t;
  }
  const old = oldValue(t, keepsValue);
  let r: Tensor;
  try {
    r = compute(old);
  } finally {
    old.dispose();
  }
  commit(t, r);
  return t;
}
