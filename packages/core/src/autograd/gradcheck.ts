/**
 * Finite-difference checks of gradients (PyTorch's gradcheck / gradgradcheck). Run them in
 * float64: central differences with eps = 1e-6 leave ~1e-10 of error there, but ~1e-2 in float32.
 */
import { NablaError, fmtShape } from '../errors.js';
import { Tensor } from '../tensor/tensor.js';
import { fromTypedArray } from '../tensor/create.js';
import { grad } from './api.js';

export interface GradcheckOptions {
  eps?: number;
  atol?: number;
  rtol?: number;
  /** Throw a NablaError with both Jacobians on failure (default true); else return false. */
  raiseException?: boolean;
}

type Fn = (...inputs: Tensor[]) => Tensor | readonly Tensor[];

function asList<T>(x: T | readonly T[]): T[] {
  return Array.isArray(x) ? (x as T[]).slice() : [x as T];
}

function outputsOf(fn: Fn, inputs: Tensor[]): Tensor[] {
  return asList(fn(...inputs)).filter((o) => o instanceof Tensor && (o.dtype === 'float32' || o.dtype === 'float64'));
}

function readSync(t: Tensor, op: string): Float64Array {
  if (!t._ref.backend.readsSync) {
    throw new NablaError(`needs a device that reads synchronously (got ${t.device}); run it on the CPU in float64`, { op });
  }
  return Float64Array.from(t.dataSync());
}

function fmtMatrix(m: Float64Array[], cols: number): string {
  const rows = m.map((r) => '  [' + Array.from(r.subarray(0, cols), (v) => Number(v.toPrecision(6)).toString().padStart(11)).join(',') + ']');
  return rows.length > 20 ? [...rows.slice(0, 20), `  ... (${rows.length} rows)`].join('\n') : rows.join('\n');
}

/**
 * Checks `fn`'s analytical gradients against finite differences for every input that requires grad.
 *
 * @example
 * const x = nabla.randn([4], { dtype: 'float64', requiresGrad: true });
 * nabla.gradcheck((t) => t.sin().mul(t), [x]); // true
 */
export function gradcheck(fn: Fn, inputs: Tensor | readonly Tensor[], opts: GradcheckOptions = {}): boolean {
  const op = 'gradcheck';
  const eps = opts.eps ?? 1e-6;
  const atol = opts.atol ?? 1e-5;
  const rtol = opts.rtol ?? 1e-3;
  const raise = opts.raiseException ?? true;
  const ins = asList(inputs);
  const diffIdx = ins.map((t, i) => (t instanceof Tensor && t.requiresGrad ? i : -1)).filter((i) => i >= 0);
  if (diffIdx.length === 0) throw new NablaError('gradcheck expects at least one input tensor to require gradient', { op });
  const rt = ins[diffIdx[0]!]!.rt;

  const outs = outputsOf(fn, ins);
  const outSizes = outs.map((o) => o.numel());

  for (const i of diffIdx) {
    const x = ins[i]!;
    const base = readSync(x, op);
    const n = base.length;
    // numerical[o][k] = d out_o / d x_k, as rows of length numel(out_o)
    const numerical = outs.map((o) => Array.from({ length: n }, () => new Float64Array(o.numel())));
    for (let k = 0; k < n; k++) {
      const evalAt = (delta: number): Float64Array[] => {
        const data = base.slice();
        data[k] += delta;
        const typed = x.dtype === 'float32' ? Float32Array.from(data) : data;
        // The perturbed input keeps requiring grad: fn may itself differentiate (gradgradcheck).
        const xp = fromTypedArray(rt, x.device, x.dtype, x.shape, typed, op);
        xp._requiresGrad = true;
        const args = ins.slice();
        args[i] = xp;
        const r = outputsOf(fn, args).map((o) => readSync(o, op));
        xp.dispose();
        return r;
      };
      const plus = evalAt(eps);
      const minus = evalAt(-eps);
      plus.forEach((p, o) => {
        for (let j = 0; j < p.length; j++) numerical[o]![k]![j] = (p[j]! - minus[o]![j]!) / (2 * eps);
      });
    }
    // analytical: one backward per output element (rows of the transposed Jacobian)
    for (let o = 0; o < outs.length; o++) {
      const out = outs[o]!;
      const analytical = Array.from({ length: n }, () => new Float64Array(outSizes[o]!));
      if (out.requiresGrad) {
        for (let j = 0; j < outSizes[o]!; j++) {
          const oneHot = new Float64Array(outSizes[o]!);
          oneHot[j] = 1;
          const typed = out.dtype === 'float32' ? Float32Array.from(oneHot) : oneHot;
          const go = fromTypedArray(rt, out.device, out.dtype, out.shape, typed, op);
          const [g] = grad([out], [x], { gradOutputs: [go], retainGraph: true, allowUnused: true });
          if (g) {
            const gv = readSync(g, op);
            for (let k = 0; k < n; k++) analytical[k]![j] = gv[k]!;
          }
          go.dispose();
        }
      }
      let bad = false;
      for (let k = 0; k < n && !bad; k++) {
        for (let j = 0; j < outSizes[o]!; j++) {
          const a = analytical[k]![j]!;
          const nu = numerical[o]![k]![j]!;
          if (!(Math.abs(a - nu) <= atol + rtol * Math.abs(nu))) {
            bad = true;
            break;
          }
        }
      }
      if (bad) {
        if (!raise) return false;
        throw new NablaError(
          `Jacobian mismatch for output ${o} with respect to input ${i} ` +
            `(input shape ${fmtShape(x.shape)}, output shape ${fmtShape(out.shape)}; rows: input elements, columns: output elements; ` +
            `atol ${atol}, rtol ${rtol}),\nnumerical:\n${fmtMatrix(numerical[o]!, outSizes[o]!)}\nanalytical:\n${fmtMatrix(analytical, outSizes[o]!)}`,
          { op },
        );
      }
    }
  }
  return true;
}

/**
 * Checks second derivatives: gradcheck of `(inputs, v) ↦ vᵀ ∂fn/∂inputs` with random `v`.
 */
export function gradgradcheck(fn: Fn, inputs: Tensor | readonly Tensor[], opts: GradcheckOptions = {}): boolean {
  const ins = asList(inputs);
  const first = ins.find((t) => t instanceof Tensor && t.requiresGrad);
  if (!first) throw new NablaError('gradgradcheck expects at least one input tensor to require gradient', { op: 'gradgradcheck' });
  const rt = first.rt;
  const outs = rt.gradMode.run(false, false, () => outputsOf(fn, ins));
  const vs = outs.map((o) => rt.randn(o.shape, { dtype: o.dtype, device: o.device, requiresGrad: true }));
  const diff = ins.map((t) => t instanceof Tensor && t.requiresGrad);
  const gfn = (...args: Tensor[]): Tensor[] => {
    const xs = args.slice(0, ins.length);
    const v = args.slice(ins.length);
    const o = outputsOf(fn, xs);
    const wrt = xs.filter((_, k) => diff[k]);
    const gs = grad(o, wrt, { gradOutputs: v, createGraph: true, allowUnused: true });
    return gs.filter((g): g is Tensor => g !== null);
  };
  return gradcheck(gfn, [...ins, ...vs], opts);
}
