/**
 * softmax / logSoftmax along a dim. A backend may provide fused, stable kernels; otherwise they
 * are composed stably here (subtract the row max). Gradients reuse the saved output *with its
 * graph*, which keeps second derivatives right (unlike saving a detached copy).
 */
import { isFloating } from '../dtype.js';
import { AMP, castOperands } from '../amp/state.js';
import { checkSingleDim } from '../validate/dim.js';
import { NablaError, fmtShape } from '../errors.js';
import { normalizeDim } from '../shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { emptyOn, grad, needsGrad, record, runKernel } from './dispatch.js';
import { where } from './elementwise/where.js';
import { rowBackward } from './softmax-backward.js';

interface DimAttr {
  dim: number;
}

// 16-bit gradients round as PyTorch's kernels do (softmax-backward.ts).
const softmaxGrad = grad<DimAttr>('SoftmaxBackward0', (g, n) => [
  rowBackward(n.output(), g[0]!, n.attrs.dim, (y, go) => go.mul(y), (y, go, s) => y.mul(go.sub(s))),
]);

const logSoftmaxGrad = grad<DimAttr>('LogSoftmaxBackward0', (g, n) => [
  rowBackward(n.output(), g[0]!, n.attrs.dim, (_y, go) => go, (y, go, s) => go.sub(y.exp().mul(s))),
]);

function prepare(x: Tensor, dim: number | null | undefined, op: string): { src: Tensor; d: number } {
  x._alive(op);
  if (dim === undefined || dim === null) throw new NablaError('dim is required (softmax over which dimension?)', { op });
  const d = x.ndim === 0 ? (normalizeDim(checkSingleDim(op, dim), 0, op), 0) : normalizeDim(checkSingleDim(op, dim), x.ndim, op);
  if (!isFloating(x.dtype)) {
    throw new NablaError(`"${op}" not implemented for '${x.dtype}' (shape ${fmtShape(x.shape)}); cast first, e.g. x.to('float32').${op}(${dim})`, { op });
  }
  return { src: x, d };
}

function composite(src: Tensor, d: number, log: boolean): Tensor {
  const gm = src.rt.gradMode;
  return gm.run(false, gm.inference, () => {
    const m = src.amax(d, true);
    const shift = where(m.abs().eq(Infinity), 0, m);
    const z = src.sub(shift);
    const s = z.exp().sum(d, true);
    return log ? z.sub(s.log()) : z.exp().div(s);
  });
}

function run(x: Tensor, dim: number | null | undefined, log: boolean): Tensor {
  const op = log ? 'logSoftmax' : 'softmax';
  if (AMP.active) [x] = castOperands(op, [x] as const);
  const { src, d } = prepare(x, dim, op);
  let out: Tensor;
  if (src.ndim === 0) {
    out = composite(src, 0, log);
  } else if (src.rt.kernels.has(op, src.device, src.dtype)) {
    out = emptyOn(src.rt, src._ref.backend, src.dtype, src.shape);
    runKernel(op, src, op, { reads: [src], writes: [out] }, (k) => k(out._view(), src._view(), d));
  } else {
    out = composite(src, d, log);
  }
  if (needsGrad(x.rt, [x])) record(log ? logSoftmaxGrad : softmaxGrad, [x], [out], { attrs: { dim: d }, saveOutputs: true });
  return out;
}

export function softmax(x: Tensor, dim: number): Tensor {
  return run(x, dim, false);
}

export function logSoftmax(x: Tensor, dim: number): Tensor {
  return run(x, dim, true);
}
