/**
 * gather / scatterAdd / scatter along one dim, for strided views. `index` may be broadcast (stride 0): core
 * builds indexSelect from an expanded index.
 *
 * Both walk the index's shape with the indexed operand's stride on `dim` set to 0, so each step
 * finds the row's base offset for free and only adds `index · stride[dim]`.
 */
import type { View } from '@nabla/core';
import { dataOf } from '../storage.js';
import { collapse, fmtShape, forEachRow, numelOf, sameShape } from '../strided.js';

function checkDim(op: string, dim: number, rank: number): void {
  if (!Number.isInteger(dim) || dim < 0 || dim >= rank) throw new Error(`${op}: dim ${dim} is out of range for rank ${rank}`);
}

/** index.shape[d] <= target.shape[d] for d != dim (PyTorch's rule), same rank. */
function checkIndexShape(op: string, what: string, index: View, target: View, dim: number): void {
  const ok =
    index.shape.length === target.shape.length &&
    index.shape.every((n, d) => d === dim || n <= target.shape[d]!);
  if (!ok) {
    throw new Error(`${op}: index shape ${fmtShape(index.shape)} does not fit ${what} shape ${fmtShape(target.shape)} outside dim ${dim}`);
  }
}

function outOfRange(op: string, v: number, dim: number, size: number): Error {
  return new Error(`${op}: index ${v} is out of range for dimension ${dim} with size ${size} (valid range [0, ${size - 1}])`);
}

/** out[..., i, ...] = x[..., index[..., i, ...], ...] along `dim`. */
export function gather(out: View, x: View, dim: number, index: View): void {
  checkDim('gather', dim, x.shape.length);
  if (!sameShape(out.shape, index.shape)) {
    throw new Error(`gather: out shape ${fmtShape(out.shape)} must equal index shape ${fmtShape(index.shape)}`);
  }
  checkIndexShape('gather', 'input', index, x, dim);
  if (index.dtype !== 'int32') throw new Error(`gather: index must be int32, got ${index.dtype}`);
  if (numelOf(index.shape) === 0) return;
  const O = dataOf('gather', 'out', out);
  const X = dataOf('gather', 'x', x);
  const I = dataOf('gather', 'index', index);
  const size = x.shape[dim]!;
  const xd = x.strides[dim]!;
  const xs = x.strides.map((s, d) => (d === dim ? 0 : s));
  const g = collapse(index.shape, [out.strides, index.strides, xs]);
  const last = g.shape.length - 1;
  const os = g.strides[0]![last]!;
  const is = g.strides[1]![last]!;
  const xsI = g.strides[2]![last]!;
  forEachRow(g.shape, g.strides, [out.offset, index.offset, x.offset], (bases, n) => {
    let o = bases[0]!;
    let i = bases[1]!;
    let p = bases[2]!;
    for (let j = 0; j < n; j++, o += os, i += is, p += xsI) {
      const v = I[i]!;
      if (v < 0 || v >= size) throw outOfRange('gather', v, dim, size);
      O[o] = X[p + v * xd]!;
    }
  });
}

/** out[..., index[..., i, ...], ...] += src[..., i, ...] along `dim` (duplicates accumulate). */
export function scatterAdd(out: View, dim: number, index: View, src: View): void {
  scatterInto('scatterAdd', out, dim, index, src);
}

/** out[..., index[..., i, ...], ...] = src[..., i, ...] along `dim` (duplicates: the last in index order wins). */
export function scatter(out: View, dim: number, index: View, src: View): void {
  scatterInto('scatter', out, dim, index, src);
}

function scatterInto(op: 'scatter' | 'scatterAdd', out: View, dim: number, index: View, src: View): void {
  checkDim(op, dim, out.shape.length);
  if (!sameShape(src.shape, index.shape)) {
    throw new Error(`${op}: src shape ${fmtShape(src.shape)} must equal index shape ${fmtShape(index.shape)}`);
  }
  checkIndexShape(op, 'out', index, out, dim);
  if (index.dtype !== 'int32') throw new Error(`${op}: index must be int32, got ${index.dtype}`);
  if (numelOf(index.shape) === 0) return;
  const O = dataOf(op, 'out', out);
  const S = dataOf(op, 'src', src);
  const I = dataOf(op, 'index', index);
  const size = out.shape[dim]!;
  const od = out.strides[dim]!;
  const ostr = out.strides.map((s, d) => (d === dim ? 0 : s));
  const g = collapse(index.shape, [ostr, index.strides, src.strides]);
  const last = g.shape.length - 1;
  const os = g.strides[0]![last]!;
  const is = g.strides[1]![last]!;
  const ss = g.strides[2]![last]!;
  const bool = out.dtype === 'bool';
  forEachRow(g.shape, g.strides, [out.offset, index.offset, src.offset], (bases, n) => {
    let o = bases[0]!;
    let i = bases[1]!;
    let p = bases[2]!;
    for (let j = 0; j < n; j++, o += os, i += is, p += ss) {
      const v = I[i]!;
      if (v < 0 || v >= size) throw outOfRange(op, v, dim, size);
      const t = o + v * od;
      // A Uint8Array would store 2 for true + true; bool addition is logical or.
      if (op === 'scatter') O[t] = S[p]!;
      else if (bool) O[t] = O[t]! !== 0 || S[p]! !== 0 ? 1 : 0;
      else O[t] = O[t]! + S[p]!;
    }
  });
}
