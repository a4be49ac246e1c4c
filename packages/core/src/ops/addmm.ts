/**
 * addmm(input, mat1, mat2, { beta, alpha }) = beta · input + alpha · (mat1 @ mat2), PyTorch's fused
 * linear layer. Backends run it as one kernel (the bias added in the matmul's epilogue); on a
 * backend without an `addmm` kernel it is composed from mm and elementwise ops, recorded as the
 * same single AddmmBackward0 node.
 */
import { NablaError, fmtShape } from '../errors.js';
import { AMP, castOperands } from '../amp/state.js';
import { broadcastShapes } from '../shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { broadcastView, emptyOn, firstTensor, grad, needsGrad, record, runKernel } from './dispatch.js';
import { mmGradMat1, mmGradMat2, mmLayout, type MmLayout } from './mm-backward.js';

export interface AddmmOptions {
  /** Multiplies `input` (default 1). With 0, `input` is ignored, NaN and infinities included. */
  beta?: number | null;
  /** Multiplies `mat1 @ mat2` (default 1). */
  alpha?: number | null;
}

interface AddmmAttr extends MmLayout {
  beta: number;
  alpha: number;
}

// The gradient w.r.t. input is g·beta at out's shape: the engine sums it back to input's shape.
const addmmGrad = grad<AddmmAttr>('AddmmBackward0', (g, n) => {
  const { beta, alpha } = n.attrs;
  const go = g[0]!;
  const scale = (t: Tensor, s: number): Tensor => (s === 1 ? t : t.mul(s));
  return [
    n.needs(0) ? scale(go, beta) : null,
    n.needs(1) ? scale(mmGradMat1(go, n.tensor(2), n.attrs.cm1), alpha) : null,
    n.needs(2) ? scale(mmGradMat2(go, n.tensor(1), n.attrs.cm2), alpha) : null,
  ];
});

/**
 * `beta · input + alpha · (mat1 @ mat2)`; `input` broadcasts to `[M, N]`.
 *
 * @example
 * const x = nabla.randn([8, 3]), w = nabla.randn([4, 3], { requiresGrad: true }), b = nabla.zeros([4]);
 * const y = nabla.addmm(b, x, w.t());   // y.gradFn.name() === 'AddmmBackward0'
 */
export function addmm(input: Tensor, mat1: Tensor, mat2: Tensor, opts: AddmmOptions = {}): Tensor {
  const op = 'addmm';
  firstTensor(op, [input, mat1, mat2]);
  if (AMP.active) [input, mat1, mat2] = castOperands(op, [input, mat1, mat2] as const);
  const beta = opts.beta ?? 1;
  const alpha = opts.alpha ?? 1;
  if (mat1.ndim !== 2) throw new NablaError(`mat1 must be a matrix, got ${mat1.ndim}-D tensor of shape ${fmtShape(mat1.shape)}`, { op });
  if (mat2.ndim !== 2) throw new NablaError(`mat2 must be a matrix, got ${mat2.ndim}-D tensor of shape ${fmtShape(mat2.shape)}`, { op });
  if (mat1.shape[1] !== mat2.shape[0]) {
    throw new NablaError(`mat1 and mat2 shapes cannot be multiplied (${mat1.shape[0]}x${mat1.shape[1]} and ${mat2.shape[0]}x${mat2.shape[1]})`, { op });
  }
  if (input.dtype !== mat1.dtype || mat1.dtype !== mat2.dtype) {
    throw new NablaError(`expected input, mat1 and mat2 to have the same dtype, but got ${input.dtype}, ${mat1.dtype} and ${mat2.dtype}`, { op });
  }
  if (mat1.dtype === 'bool') throw new NablaError('is not implemented for bool tensors', { op });
  const shape = [mat1.shape[0]!, mat2.shape[1]!];
  const b = broadcastShapes(input.shape, shape, op);
  if (b.length !== 2 || b[0] !== shape[0] || b[1] !== shape[1]) {
    throw new NablaError(`input of shape ${fmtShape(input.shape)} cannot be broadcast to the product's shape ${fmtShape(shape)}`, { op });
  }
  const rt = mat1.rt;
  let out: Tensor;
  if (rt.kernels.has('addmm', mat1.device, mat1.dtype)) {
    out = emptyOn(rt, mat1._ref.backend, mat1.dtype, shape);
    const bias = broadcastView(input, shape);
    runKernel(op, mat1, op, { reads: [input, mat1, mat2], writes: [out] }, (k) => k(out._view(), bias, mat1._view(), mat2._view(), beta, alpha));
  } else {
    out = rt.gradMode.run(false, rt.gradMode.inference, () => {
      const p = alpha === 1 ? mat1.mm(mat2) : mat1.mm(mat2).mul(alpha);
      return beta === 0 ? p : p.add(beta === 1 ? input : input.mul(beta));
    });
  }
  if (needsGrad(rt, [input, mat1, mat2])) record(addmmGrad, [input, mat1, mat2], [out], { attrs: { beta, alpha, ...mmLayout(mat1, mat2) }, saveInputs: [false, mat2.requiresGrad, mat1.requiresGrad] });
  return out;
}
