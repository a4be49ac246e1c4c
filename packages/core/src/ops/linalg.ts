/**
 * Matrix products. Backends provide one kernel, a strided batched matmul; mm, bmm, dot, outer and
 * matmul (with NumPy broadcasting of batch dims) are built on it with views, so transposes and
 * broadcast batches cost no copies.
 */
import { checkTensor } from '../validate/tensor.js';
import { AMP, castOperands } from '../amp/state.js';
import { NablaError, fmtShape } from '../errors.js';
import { broadcastShapes } from '../shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { alias, emptyOn, firstTensor, grad, needsGrad, record, runKernel } from './dispatch.js';
import { mmGradMat1, mmGradMat2, mmLayout, type MmLayout } from './mm-backward.js';

/**
 * What a product of two operands saves for backward, as PyTorch does: each operand only when the
 * other's gradient is wanted (a·b's gradient w.r.t. b needs a, and the other way round), so a
 * layer's constant input or frozen weight is not kept (and saved-tensor hooks see PyTorch's count).
 */
function crossSaved(a: Tensor, b: Tensor): readonly boolean[] {
  return [b.requiresGrad, a.requiresGrad];
}

function checkPair(op: string, a: Tensor, b: Tensor): void {
  checkTensor(op, 'input', a);
  checkTensor(op, 'other', b);
  firstTensor(op, [a, b]);
  if (a.dtype !== b.dtype) {
    throw new NablaError(`expected both tensors to have the same dtype, but got ${a.dtype} and ${b.dtype}`, { op });
  }
  if (a.dtype === 'bool') throw new NablaError('is not implemented for bool tensors', { op });
}

/** [B, M, K] × [B, K, N] → new [B, M, N]; no autograd. */
function bmmRaw(a: Tensor, b: Tensor, op: string): Tensor {
  const [B, M] = a.shape as [number, number, number];
  const N = b.shape[2]!;
  const out = emptyOn(a.rt, a._ref.backend, a.dtype, [B, M, N]);
  runKernel('bmm', a, op, { reads: [a, b], writes: [out] }, (k) => k(out._view(), a._view(), b._view()));
  return out;
}

/** A 2-D tensor seen as a batch of one (a view). */
function asBatch(t: Tensor): Tensor {
  return alias(t, [1, ...t.shape], [0, ...t._strides], t._offset);
}

function dropBatch(t: Tensor): Tensor {
  const r = alias(t, t.shape.slice(1), t._strides.slice(1), t._offset);
  t.dispose();
  return r;
}

const mmGrad = grad<MmLayout>('MmBackward0', (g, n) => [
  n.needs(0) ? mmGradMat1(g[0]!, n.tensor(1), n.attrs.cm1) : null,
  n.needs(1) ? mmGradMat2(g[0]!, n.tensor(0), n.attrs.cm2) : null,
]);

export function mm(a: Tensor, b: Tensor): Tensor {
  if (AMP.active) [a, b] = castOperands('mm', [a, b] as const);
  const op = 'mm';
  checkPair(op, a, b);
  if (a.ndim !== 2) throw new NablaError(`self must be a matrix (got ${a.ndim}-D, shape ${fmtShape(a.shape)})`, { op });
  if (b.ndim !== 2) throw new NablaError(`mat2 must be a matrix (got ${b.ndim}-D, shape ${fmtShape(b.shape)})`, { op });
  if (a.shape[1] !== b.shape[0]) {
    throw new NablaError(`mat1 and mat2 shapes cannot be multiplied (${a.shape[0]}x${a.shape[1]} and ${b.shape[0]}x${b.shape[1]})`, { op });
  }
  const a3 = asBatch(a);
  const b3 = asBatch(b);
  const out = dropBatch(bmmRaw(a3, b3, op));
  a3.dispose();
  b3.dispose();
  if (needsGrad(a.rt, [a, b])) record(mmGrad, [a, b], [out], { attrs: mmLayout(a, b), saveInputs: crossSaved(a, b) });
  return out;
}

const bmmGrad = grad('BmmBackward0', (g, n) => [
  n.needs(0) ? g[0]!.bmm(n.tensor(1).transpose(1, 2)) : null,
  n.needs(1) ? n.tensor(0).transpose(1, 2).bmm(g[0]!) : null,
]);

export function bmm(a: Tensor, b: Tensor): Tensor {
  if (AMP.active) [a, b] = castOperands('bmm', [a, b] as const);
  const op = 'bmm';
  checkPair(op, a, b);
  if (a.ndim !== 3 || b.ndim !== 3) {
    throw new NablaError(`batch1 and batch2 must be 3-D tensors (got ${fmtShape(a.shape)} and ${fmtShape(b.shape)})`, { op });
  }
  if (a.shape[0] !== b.shape[0] || a.shape[2] !== b.shape[1]) {
    throw new NablaError(
      `Expected size for first two dimensions of batch2 tensor to be: [${a.shape[0]}, ${a.shape[2]}] but got: [${b.shape[0]}, ${b.shape[1]}].`,
      { op },
    );
  }
  const out = bmmRaw(a, b, op);
  if (needsGrad(a.rt, [a, b])) record(bmmGrad, [a, b], [out], { saveInputs: crossSaved(a, b) });
  return out;
}

const dotGrad = grad('DotBackward0', (g, n) => [n.needs(0) ? g[0]!.mul(n.tensor(1)) : null, n.needs(1) ? g[0]!.mul(n.tensor(0)) : null]);

export function dot(a: Tensor, b: Tensor): Tensor {
  if (AMP.active) [a, b] = castOperands('dot', [a, b] as const);
  const op = 'dot';
  checkPair(op, a, b);
  if (a.ndim !== 1 || b.ndim !== 1) {
    throw new NablaError(`1D tensors expected, but got ${a.ndim}D and ${b.ndim}D tensors`, { op });
  }
  if (a.shape[0] !== b.shape[0]) {
    throw new NablaError(
      `inconsistent tensor size, expected tensor [${a.shape[0]}] and src [${b.shape[0]}] to have the same number of elements, but got ${a.shape[0]} and ${b.shape[0]} elements respectively`,
      { op },
    );
  }
  const a3 = alias(a, [1, 1, a.shape[0]!], [0, 0, a._strides[0]!], a._offset);
  const b3 = alias(b, [1, b.shape[0]!, 1], [0, b._strides[0]!, 0], b._offset);
  const r = bmmRaw(a3, b3, op);
  a3.dispose();
  b3.dispose();
  const out = alias(r, [], [], 0);
  r.dispose();
  if (needsGrad(a.rt, [a, b])) record(dotGrad, [a, b], [out], { saveInputs: crossSaved(a, b) });
  return out;
}

export function outer(a: Tensor, b: Tensor): Tensor {
  const op = 'outer';
  checkPair(op, a, b);
  if (a.ndim !== 1 || b.ndim !== 1) throw new NablaError(`expects 1-D tensors (got ${fmtShape(a.shape)} and ${fmtShape(b.shape)})`, { op });
  return a.reshape([-1, 1]).mul(b);
}

/** NumPy's matmul: 1-D operands are promoted and squeezed back, batch dims broadcast. */
export function matmul(a: Tensor, b: Tensor): Tensor {
  if (AMP.active) [a, b] = castOperands('matmul', [a, b] as const);
  const op = 'matmul';
  checkPair(op, a, b);
  if (a.ndim === 0 || b.ndim === 0) {
    throw new NablaError(`both arguments to matmul need to be at least 1D, but they are ${a.ndim}D and ${b.ndim}D`, { op });
  }
  // Checked here, before any view is made, so the message names matmul and the user's shapes.
  const K = a.shape[a.ndim - 1]!;
  const K2 = b.ndim === 1 ? b.shape[0]! : b.shape[b.ndim - 2]!;
  if (K !== K2) {
    const M = a.ndim === 1 ? 1 : a.shape[a.ndim - 2]!;
    const N = b.ndim === 1 ? 1 : b.shape[b.ndim - 1]!;
    throw new NablaError(
      a.ndim === 1 && b.ndim === 1
        ? `inconsistent tensor size, expected tensor ${fmtShape(a.shape)} and src ${fmtShape(b.shape)} to have the same number of elements, but got ${K} and ${K2} elements respectively`
        : `mat1 and mat2 shapes cannot be multiplied (${M}x${K} and ${K2}x${N}` +
            (a.ndim === 2 && b.ndim === 2 ? ')' : `; operands ${fmtShape(a.shape)} and ${fmtShape(b.shape)})`),
      { op },
    );
  }
  if (a.ndim > 2 || b.ndim > 2) {
    try {
      broadcastShapes(a.shape.slice(0, Math.max(0, a.ndim - 2)), b.shape.slice(0, Math.max(0, b.ndim - 2)), op);
    } catch {
      throw new NablaError(
        `the batch dimensions of ${fmtShape(a.shape)} and ${fmtShape(b.shape)} cannot be broadcast ` +
          `(${fmtShape(a.shape.slice(0, -2))} and ${fmtShape(b.shape.slice(0, -2))})`,
        { op },
      );
    }
  }
  if (a.ndim === 1 && b.ndim === 1) return dot(a, b);
  if (a.ndim === 2 && b.ndim === 2) return mm(a, b);
  if (a.ndim === 1 && b.ndim === 2) return mm(a.unsqueeze(0), b).squeeze(0);
  if (a.ndim === 2 && b.ndim === 1) return mm(a, b.unsqueeze(1)).squeeze(1);
  const a2 = a.ndim === 1 ? a.unsqueeze(0) : a;
  const b2 = b.ndim === 1 ? b.unsqueeze(1) : b;
  const M = a2.shape[a2.ndim - 2]!;
  const N = b2.shape[b2.ndim - 1]!;
  const batch = broadcastShapes(a2.shape.slice(0, -2), b2.shape.slice(0, -2), op);
  const B = batch.reduce((p, d) => p * d, 1);
  const a3 = a2.expand([...batch, M, K]).reshape([B, M, K]);
  const b3 = b2.expand([...batch, K, N]).reshape([B, K, N]);
  let out = a3.bmm(b3).reshape([...batch, M, N]);
  if (a.ndim === 1) out = out.squeeze(-2);
  if (b.ndim === 1) out = out.squeeze(-1);
  return out;
}
