/**
 * The JavaScript pair kernel: two expressions over the same inputs (an activation's f(x) and
 * f'(x), see core's `ops/elementwise/derivative-cache.ts`) in one loop, their shared nodes
 * evaluated once. It is the reference the wasm pair kernel is tested against, and what runs
 * wherever the one-output kernel would run in JavaScript (float64 transcendentals, small tensors,
 * no wasm). It never declines.
 *
 * Both outputs are contiguous and of one shape (core makes them); inputs are either contiguous
 * (or one broadcast element), walked by one counter, or strided, walked as the one-output
 * kernel's strided loop walks them.
 */
import type { ElementwisePairKernel, ElementwisePairSpec, TypedArray } from '@nabla/core';
import { build, checkReads, generateBodies, paramPrelude, stridedLoop } from './compile-elementwise.js';
import { dataOf } from './storage.js';
import { collapse, fmtShape, isContiguous, isScalarLike, numelOf, orderByStrides, sameShape } from './strided.js';

type PairFlatFn = (n: number, O: TypedArray, o: number, O2: TypedArray, o2: number, D: readonly TypedArray[], offs: readonly number[], P: readonly number[]) => void;
type PairStridedFn = (
  shape: readonly number[],
  O: TypedArray,
  o: number,
  os: readonly number[],
  O2: TypedArray,
  o2: number,
  D: readonly TypedArray[],
  offs: readonly number[],
  S: readonly (readonly number[])[],
  P: readonly number[],
) => void;

type Bodies = ReturnType<typeof generateBodies>;

function genFlat(spec: ElementwisePairSpec, body: Bodies, scalarMask: number): PairFlatFn {
  const pre: string[] = [paramPrelude(body)];
  const reads: string[] = [];
  for (const i of body.inputs) {
    pre.push(`const A${i} = D[${i}], a${i} = offs[${i}];`);
    if (scalarMask & (1 << i)) pre.push(`const x${i} = A${i}[a${i}];`);
    else reads.push(`const x${i} = A${i}[a${i} + i];`);
  }
  const src = `n, O, o, O2, o2, D, offs, P) {
${pre.join('\n')}
for (let i = 0; i < n; i++) {
${reads.join('\n')}
${body.statements}
O[o + i] = ${body.results[0]!};
O2[o2 + i] = ${body.results[1]!};
}
}`;
  return build<PairFlatFn>(`${spec.name}_flat`, src);
}

/** The outputs share strides (both contiguous, one shape): one index `op` walks both, offset apart. */
function genStrided(spec: ElementwisePairSpec, body: Bodies): PairStridedFn {
  const src = `shape, O, o, os, O2, o2, D, offs, S, P) {
${paramPrelude(body)}
const d2 = o2 - o;
${stridedLoop(body.inputs, body.statements, `O[op] = ${body.results[0]!};\n    O2[op + d2] = ${body.results[1]!};`)}
}`;
  return build<PairStridedFn>(`${spec.name}_strided`, src);
}

/** The JavaScript pair kernel for `spec` (float outputs only; null for any other). */
export function compileElementwisePair(spec: ElementwisePairSpec): ElementwisePairKernel | null {
  if ((spec.outDtype !== 'float32' && spec.outDtype !== 'float64') || (spec.computeDtype !== 'float32' && spec.computeDtype !== 'float64')) return null;
  const body = generateBodies([spec.expr, spec.expr2], 'float', spec.name);
  const nIn = checkReads(spec, body);
  const flat = new Map<number, PairFlatFn>();
  let strided: PairStridedFn | undefined;

  return (out, out2, inputs, params) => {
    if (inputs.length !== nIn) throw new Error(`${spec.name}: expected ${nIn} inputs, got ${inputs.length}`);
    if (params.length < spec.numParams) throw new Error(`${spec.name}: expected ${spec.numParams} params, got ${params.length}`);
    const shape = out.shape;
    if (!sameShape(out2.shape, shape) || !isContiguous(shape, out.strides) || !isContiguous(shape, out2.strides)) {
      throw new Error(`${spec.name}: the outputs must be contiguous and of one shape`);
    }
    const n = numelOf(shape);
    if (n === 0) return true;
    const O = dataOf(spec.name, 'out', out);
    const O2 = dataOf(spec.name, 'out', out2);
    const D = new Array<TypedArray>(nIn);
    const offs = new Array<number>(nIn);
    let contiguous = true;
    let mask = 0;
    for (let i = 0; i < nIn; i++) {
      const v = inputs[i]!;
      if (!sameShape(v.shape, shape)) {
        throw new Error(`${spec.name}: input ${i} has shape ${fmtShape(v.shape)}, expected the output's ${fmtShape(shape)}`);
      }
      D[i] = dataOf(spec.name, i, v);
      offs[i] = v.offset;
      if (isScalarLike(v.shape, v.strides)) mask |= 1 << i;
      else if (!isContiguous(v.shape, v.strides)) contiguous = false;
    }
    if (contiguous && nIn <= 30) {
      let f = flat.get(mask);
      if (f === undefined) flat.set(mask, (f = genFlat(spec, body, mask)));
      f(n, O, out.offset, O2, out2.offset, D, offs, params);
      return true;
    }
    const strides: (readonly number[])[] = [out.strides];
    for (const v of inputs) strides.push(v.strides);
    const ordered = orderByStrides(shape, strides, 0);
    const g = collapse(ordered.shape, ordered.strides);
    strided ??= genStrided(spec, body);
    strided(g.shape, O, out.offset, g.strides[0]!, O2, out2.offset, D, offs, g.strides.slice(1), params);
    return true;
  };
}
