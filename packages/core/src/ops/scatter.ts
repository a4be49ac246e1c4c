/**
 * `scatter` (PyTorch's out-of-place `scatter(dim, index, src | value)`): a copy of `x` whose
 * positions `index` along `dim` are overwritten from `src` or with a number. Backends provide the
 * `scatter` kernel (of duplicate indices the last in index order wins, as PyTorch's CPU does).
 * scatterAdd, its accumulating sibling, lives in indexing.ts.
 */
import { NablaError, fmtShape } from '../errors.js';
import { normalizeDim } from '../shape.js';
import { Tensor } from '../tensor/tensor.js';
import { emptyOn, firstTensor, grad, needsGrad, record, runKernel, describe } from './dispatch.js';
import { quiet } from './advanced-index.js';
import { copyContiguous } from './view.js';
import { leading, padTo } from './pad.js';

interface ScatterAttr {
  dim: number;
}

interface ScatterSrcAttr extends ScatterAttr {
  srcShape: readonly number[];
}

const scatterSrcGrad = grad<ScatterSrcAttr>('ScatterBackward0', (g, n) => {
  const idx = n.tensor(1);
  const d = n.attrs.dim;
  return [n.needs(0) ? scatter(g[0]!, d, idx, 0) : null, null, n.needs(2) ? padTo(g[0]!.gather(d, idx), n.attrs.srcShape) : null];
});


const scatterValueGrad = grad<ScatterAttr>('ScatterBackward1', (g, n) => [scatter(g[0]!, n.attrs.dim, n.tensor(1), 0), null]);

/** PyTorch has no derivative for scatter with a reduction; its node says so when reached. */
const notImplemented = grad('NotImplemented', () => {
  throw new NablaError('derivative for aten::scatter is not implemented (scatter with reduce)', { op: 'scatter' });
});

export interface ScatterOptions {
  /** Combine with what is there instead of overwriting: `'add'` (PyTorch's `reduce='add'`; no gradient, as in PyTorch). */
  reduce?: 'add' | 'multiply';
}

/**
 * A copy of `x` with `src[i][j][k]` written at `out[index[i][j][k]][j][k]` (dim 0; likewise for
 * other dims), or with the number `src` written at every indexed position.
 *
 * @example
 * const x = nabla.zeros([2, 3]);
 * x.scatter(1, nabla.tensor([[2], [0]], { dtype: 'int32' }), 5).tolist();   // [[0, 0, 5], [5, 0, 0]]
 */
export function scatter(x: Tensor, dim: number, index: Tensor, src: Tensor | number | boolean, opts: ScatterOptions = {}): Tensor {
  const op = 'scatter';
  firstTensor(op, [x, index, src]);
  const reduce = opts?.reduce;
  if (reduce !== undefined && reduce !== null && reduce !== 'add') {
    throw new NablaError(
      reduce === 'multiply' ? "reduce='multiply' is not supported yet (only 'add')" : `reduce argument must be either add or multiply (got ${String(reduce)}).`,
      { op },
    );
  }
  if (!(index instanceof Tensor)) throw new NablaError(`index must be a Tensor, got ${describe(index)}`, { op });
  if (index.dtype !== 'int32') throw new NablaError(`scatter(): Expected dtype int32 for index, got ${index.dtype}`, { op });
  const d = normalizeDim(dim, Math.max(x.ndim, 1), op);
  if (index.ndim !== x.ndim) {
    throw new NablaError(`Index tensor must have the same number of dimensions as self tensor (index ${fmtShape(index.shape)}, self ${fmtShape(x.shape)})`, { op });
  }
  const isTensor = src instanceof Tensor;
  if (isTensor) {
    if (src.dtype !== x.dtype) throw new NablaError(`scatter(): Expected self.dtype to be equal to src.dtype (got ${x.dtype} and ${src.dtype})`, { op });
    if (src.ndim !== x.ndim) {
      throw new NablaError(`Index tensor must have the same number of dimensions as src tensor (index ${fmtShape(index.shape)}, src ${fmtShape(src.shape)})`, { op });
    }
  }
  const fits = index.shape.every((s, i) => (i === d || s <= x.shape[i]!) && (!isTensor || s <= src.shape[i]!));
  if (!fits) {
    throw new NablaError(
      `Expected index ${fmtShape(index.shape)} to be smaller than self ${fmtShape(x.shape)} apart from dimension ${d}` +
        (isTensor ? ` and to be smaller size than src ${fmtShape(src.shape)}` : ''),
      { op },
    );
  }
  const out = copyContiguous(x);
  quiet(x.rt, () => {
    let s: Tensor;
    if (isTensor) {
      s = src.shape.every((n, i) => n === index.shape[i]) ? src : leading(src, index.shape);
    } else {
      const v = emptyOn(x.rt, x._ref.backend, x.dtype, []).fill_(src);
      s = v.expand(index.shape);
      v.dispose();
    }
    try {
      runKernel(reduce === 'add' ? 'scatterAdd' : 'scatter', out, op, { reads: [index, s], writes: [out] }, (k) => k(out._view(), d, index._view(), s._view()));
    } catch (e) {
      out.dispose();
      throw e;
    } finally {
      if (s !== src) s.dispose();
    }
  });
  if (needsGrad(x.rt, [x, src])) {
    if (reduce === 'add') record(notImplemented, [x, index, src], [out]);
    else if (isTensor) record(scatterSrcGrad, [x, index, src], [out], { attrs: { dim: d, srcShape: src.shape }, saveInputs: [false, true, false] });
    else record(scatterValueGrad, [x, index], [out], { attrs: { dim: d }, saveInputs: [false, true] });
  }
  return out;
}
