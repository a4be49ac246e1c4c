/**
 * Replays packages/core/fixtures/everyday-ops.json (recorded with PyTorch 1.13 by
 * make_everyday_ops.py) through the public API: outputs, indices, the gradient of sum(out · w)
 * and, where recorded, the second derivative. Reads with `await data()`, so any device works.
 * (The same replay as tests/core-cpu/test/helpers/everyday-fixtures.ts, which runs it on the CPU:
 * this package's tsconfig keeps its sources under src/, so it cannot import that file.)
 */
import { readFileSync } from 'node:fs';
import { autograd, isclose, Tensor, type DType, type Runtime, type ValuesIndices } from '@nabla/core';

type Encoded = number | boolean | 'nan' | 'inf' | '-inf';

export interface TensorSpec {
  shape: number[];
  dtype: string;
  values: Encoded[];
}

export interface FixtureCase {
  name: string;
  op: string;
  args: Record<string, number | boolean | null | undefined>;
  inputs: TensorSpec[];
  out: TensorSpec & { indices?: number[] };
  gradWeight?: Encoded[];
  grad?: { dtype: string; values: Encoded[]; node: string };
  gradgrad?: { v: Encoded[]; values: Encoded[] };
}

export interface Fixtures {
  torch: string;
  cases: FixtureCase[];
  allclose: { name: string; value: boolean }[];
}

export function loadFixtures(): Fixtures {
  return JSON.parse(readFileSync(new URL('../../../core/fixtures/everyday-ops.json', import.meta.url), 'utf8')) as Fixtures;
}

export function decode(v: Encoded): number {
  if (v === 'nan') return NaN;
  if (v === 'inf') return Infinity;
  if (v === '-inf') return -Infinity;
  return Number(v);
}

/** PyTorch's dtype name as Nabla's (int64 results are int32 here). */
export function nablaDtype(torchDtype: string): DType {
  if (torchDtype === 'int64' || torchDtype === 'int32') return 'int32';
  return torchDtype as DType;
}

type Args = FixtureCase['args'];
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);

export const OPS: Record<string, (xs: Tensor[], a: Args) => Tensor | ValuesIndices> = {
  sort: (xs, a) => xs[0]!.sort({ dim: num(a.dim), descending: !!a.descending, stable: true }),
  topk: (xs, a) => xs[0]!.topk(num(a.k)!, { dim: num(a.dim), largest: !!a.largest }),
  cumsum: (xs, a) => xs[0]!.cumsum(num(a.dim)!),
  cumprod: (xs, a) => xs[0]!.cumprod(num(a.dim)!),
  nanToNum: (xs, a) => xs[0]!.nanToNum({ nan: num(a.nan), posinf: num(a.posinf), neginf: num(a.neginf) }),
  isinf: (xs) => xs[0]!.isinf(),
  isfinite: (xs) => xs[0]!.isfinite(),
  isposinf: (xs) => xs[0]!.isposinf(),
  isneginf: (xs) => xs[0]!.isneginf(),
  isnan: (xs) => xs[0]!.isnan(),
  any: (xs, a) => xs[0]!.any(num(a.dim), !!a.keepdim),
  all: (xs, a) => xs[0]!.all(num(a.dim), !!a.keepdim),
  isclose: (xs, a) => isclose(xs[0]!, xs[1]!, { rtol: num(a.rtol), atol: num(a.atol), equalNan: !!a.equalNan }),
  float: (xs) => xs[0]!.float(),
  double: (xs) => xs[0]!.double(),
  int: (xs) => xs[0]!.int(),
  bool: (xs) => xs[0]!.bool(),
};

export interface ReplayOptions {
  device: string;
  /** Run float64 inputs as float32 (devices without float64). */
  float32: boolean;
  /** |got − want| <= atol + rtol·|want| for float outputs and gradients. */
  rtol: number;
  atol: number;
}

/** Cases whose PyTorch answer depends on the input being float64 (skipped in float32 runs). */
export const FLOAT64_ONLY = new Set(['nanToNum_defaults', 'cast_float', 'cast_double']);

function makeInput(rt: Runtime, s: TensorSpec, o: ReplayOptions): Tensor {
  let dtype = nablaDtype(s.dtype);
  if (o.float32 && dtype === 'float64') dtype = 'float32';
  const values = s.values.map(decode);
  return rt.tensor(values, { dtype, device: o.device, shape: s.shape });
}

function compare(label: string, got: ArrayLike<number>, want: readonly Encoded[], exact: boolean, o: ReplayOptions, errors: string[]): void {
  if (got.length !== want.length) {
    errors.push(`${label}: ${got.length} elements, want ${want.length}`);
    return;
  }
  for (let i = 0; i < want.length; i++) {
    const w = decode(want[i]!);
    const g = Number(got[i]);
    const ok = Number.isNaN(w) ? Number.isNaN(g) : exact || !Number.isFinite(w) ? g === w : Math.abs(g - w) <= o.atol + o.rtol * Math.abs(w);
    if (!ok) {
      errors.push(`${label}[${i}]: got ${g}, want ${w}`);
      if (errors.length > 8) return;
    }
  }
}

/** Runs one case; returns the mismatches (empty when it matches PyTorch). */
export async function replay(rt: Runtime, c: FixtureCase, o: ReplayOptions): Promise<string[]> {
  const errors: string[] = [];
  const xs = c.inputs.map((s) => makeInput(rt, s, o));
  const x = xs[0]!;
  const wantsGrad = c.grad !== undefined;
  if (wantsGrad) x.requiresGrad_(true);
  const r = OPS[c.op]!(xs, c.args);
  const pair = r instanceof Tensor ? null : r;
  const values = pair ? pair.values : (r as Tensor);
  const indices = pair ? pair.indices : null;
  const outDtype = nablaDtype(c.out.dtype);
  const wantDtype = o.float32 && outDtype === 'float64' ? 'float32' : outDtype;
  if (values.dtype !== wantDtype) errors.push(`dtype ${values.dtype}, want ${wantDtype}`);
  if (JSON.stringify(values.shape) !== JSON.stringify(c.out.shape)) errors.push(`shape [${values.shape}], want [${c.out.shape}]`);
  const floatOut = values.dtype === 'float32' || values.dtype === 'float64';
  // Sorting permutes exact values; everything else of a float result is compared with tolerance.
  const exactValues = !floatOut || c.op === 'sort' || c.op === 'topk';
  compare('values', await values.data(), c.out.values, exactValues, o, errors);
  if (c.out.indices) {
    if (indices === null) errors.push('no indices');
    else {
      if (indices.dtype !== 'int32') errors.push(`indices dtype ${indices.dtype}`);
      compare('indices', await indices.data(), c.out.indices, true, o, errors);
    }
  }
  if (wantsGrad) {
    if (values.gradFn?.name() !== c.grad!.node) errors.push(`node ${values.gradFn?.name()}, want ${c.grad!.node}`);
    const w = rt.tensor(c.gradWeight!.map(decode), { dtype: values.dtype, device: o.device, shape: values.shape });
    const createGraph = c.gradgrad !== undefined;
    const [g] = autograd.grad(values, x, { gradOutputs: w, createGraph });
    compare('grad', await g!.data(), c.grad!.values, false, o, errors);
    if (c.gradgrad) {
      const v = rt.tensor(c.gradgrad.v.map(decode), { dtype: g!.dtype, device: o.device, shape: g!.shape });
      const gg = g!.requiresGrad ? autograd.grad(g!, x, { gradOutputs: v, allowUnused: true })[0] : null;
      const ggValues = gg ? await gg.data() : new Float64Array(x.numel());
      compare('gradgrad', ggValues, c.gradgrad.values, false, o, errors);
    }
  }
  return errors;
}
