/**
 * Replays packages/core/fixtures/half/half-ops.json (make_half_ops.py) on a runtime and device:
 * each op on 16-bit inputs, its output and (where recorded) the gradients of sum(out * w), every
 * element within one unit in the last place of the 16-bit type of PyTorch's.
 */
import { readFileSync } from 'node:fs';
import { bfloat16BitsToNumber, halfBitsToNumber, type Runtime, type Tensor } from '@nabla/core';

export interface Encoded {
  readonly shape: number[];
  readonly bits: number[];
}

export interface HalfOpCase {
  readonly name: string;
  readonly dtype: 'float16' | 'bfloat16';
  readonly mode: 'native' | 'float32-rounded';
  readonly inputs: Encoded[];
  readonly out: Encoded;
  readonly w?: Encoded;
  readonly grads?: Encoded[];
}

export function loadHalfOps(): { torch: string; cases: HalfOpCase[] } {
  return JSON.parse(readFileSync(new URL('../../../../packages/core/fixtures/half/half-ops.json', import.meta.url), 'utf8')) as {
    torch: string;
    cases: HalfOpCase[];
  };
}

/** The ops as Nabla spells them (the generator's CASES, one for one). */
export const HALF_OPS: Record<string, (...xs: Tensor[]) => Tensor> = {
  neg: (a) => a.neg(),
  abs: (a) => a.abs(),
  exp: (a) => a.exp(),
  log: (a) => a.log(),
  sqrt: (a) => a.sqrt(),
  rsqrt: (a) => a.rsqrt(),
  tanh: (a) => a.tanh(),
  sigmoid: (a) => a.sigmoid(),
  relu: (a) => a.relu(),
  sin: (a) => a.sin(),
  cos: (a) => a.cos(),
  reciprocal: (a) => a.reciprocal(),
  square: (a) => a.mul(a),
  add: (a, b) => a.add(b!),
  sub: (a, b) => a.sub(b!),
  mul: (a, b) => a.mul(b!),
  div: (a, b) => a.div(b!),
  maximum: (a, b) => a.maximum(b!),
  addScalar: (a) => a.add(0.1),
  mulScalar: (a) => a.mul(3.3),
  matmul: (a, b) => a.matmul(b!),
  bmm: (a, b) => a.matmul(b!),
  sumAll: (a) => a.sum(),
  sumDim: (a) => a.sum(1),
  sumBig: (a) => a.sum(1),
  meanDim: (a) => a.mean(0),
  softmax: (a) => a.softmax(-1),
  logSoftmax: (a) => a.logSoftmax(-1),
  amax: (a) => a.amax(1),
  cumsum: (a) => a.cumsum(1),
};

/** 16-bit patterns on a line where adjacent representable values are adjacent integers. */
function ordered(h: number): number {
  return h & 0x8000 ? -(h & 0x7fff) : h;
}

function isNaN16(dtype: HalfOpCase['dtype'], h: number): boolean {
  return dtype === 'float16' ? (h & 0x7fff) > 0x7c00 : (h & 0x7fff) > 0x7f80;
}

/**
 * Mismatches beyond one unit in the last place (NaN matches NaN), as readable lines. With
 * `scaleEps`, an element also passes within `scaleEps` machine epsilons of the tensor's largest
 * magnitude: for gradients, whose backward formulas Nabla composes from several ops that each
 * round to the 16-bit type (PyTorch's fused backward kernels round once), so a gradient that
 * cancels to a small value carries the rounding of its larger terms.
 */
export function ulpMismatches(dtype: HalfOpCase['dtype'], want: readonly number[], got: ArrayLike<number>, what: string, scaleEps = 0): string[] {
  const bad: string[] = [];
  if (got.length !== want.length) return [`${what}: ${got.length} elements, expected ${want.length}`];
  const value = dtype === 'float16' ? halfBitsToNumber : bfloat16BitsToNumber;
  const eps = dtype === 'float16' ? 2 ** -10 : 2 ** -7;
  let scale = 0;
  for (const e of want) if (Number.isFinite(value(e))) scale = Math.max(scale, Math.abs(value(e)));
  for (let i = 0; i < want.length; i++) {
    const e = want[i]!;
    const a = got[i]!;
    if (isNaN16(dtype, e) && isNaN16(dtype, a)) continue;
    if (Math.abs(ordered(e) - ordered(a)) <= 1) continue;
    if (scaleEps > 0 && Math.abs(value(e) - value(a)) <= scaleEps * eps * scale) continue;
    bad.push(`${what}[${i}]: expected 0x${e.toString(16)} (${value(e)}), got 0x${a.toString(16)} (${value(a)})`);
  }
  return bad;
}

/**
 * How many epsilons of the largest gradient element a gradient may be off when its backward reads
 * a saved output that is itself a ulp off PyTorch's, or is composed in PyTorch too (var).
 */
export const GRAD_SCALE_EPS = 4;

/** The raw 16-bit patterns of a tensor (on a device that reads asynchronously too). */
export async function bitsOf(t: Tensor): Promise<Uint16Array> {
  const data = await t._ref.backend.read(t._view());
  if (!(data instanceof Uint16Array)) throw new Error(`expected 16-bit storage, got ${data.constructor.name}`);
  return data;
}

/** Runs one case; the list of mismatches (empty when it matches). */
export async function replayHalfOp(rt: Runtime, c: HalfOpCase, device: string): Promise<string[]> {
  const fn = HALF_OPS[c.name];
  if (fn === undefined) return [`no Nabla op for fixture case ${c.name}`];
  const make = (e: Encoded, requiresGrad: boolean): Tensor =>
    rt.tensor(Uint16Array.from(e.bits), { dtype: c.dtype, shape: e.shape, device, requiresGrad });
  const xs = c.inputs.map((e) => make(e, c.grads !== undefined));
  const out = fn(...xs);
  const bad: string[] = [];
  if (out.dtype !== c.dtype) bad.push(`out dtype ${out.dtype}, expected ${c.dtype}`);
  if (JSON.stringify(out.shape) !== JSON.stringify(c.out.shape)) bad.push(`out shape ${JSON.stringify(out.shape)}, expected ${JSON.stringify(c.out.shape)}`);
  const outBits = await bitsOf(out);
  bad.push(...ulpMismatches(c.dtype, c.out.bits, outBits, 'out'));
  // Gradients are checked to one ulp too (tanh/sigmoid/softmax/logSoftmax backward round as
  // PyTorch's kernels do). Only where the forward itself is a (permitted) ulp off PyTorch's does a
  // backward that reads the saved output get GRAD_SCALE_EPS: bfloat16 logSoftmax, whose
  // 1 - exp(y)·sum cancels and turns one ulp of y into two of the gradient.
  const forwardExact = c.out.bits.every((b, i) => b === outBits[i]);
  if (c.grads !== undefined && c.w !== undefined) {
    out.mul(make(c.w, false)).sum().backward();
    c.grads.forEach((g, k) => {
      const grad = xs[k]!.grad;
      if (grad === null) bad.push(`grad ${k} is null`);
      else if (grad.dtype !== c.dtype) bad.push(`grad ${k} dtype ${grad.dtype}, expected ${c.dtype}`);
    });
    for (let k = 0; k < c.grads.length; k++) {
      const grad = xs[k]!.grad;
      if (grad !== null) bad.push(...ulpMismatches(c.dtype, c.grads[k]!.bits, await bitsOf(grad), `grad ${k}`, forwardExact ? 0 : GRAD_SCALE_EPS));
    }
  }
  return bad;
}
