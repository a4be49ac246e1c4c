/**
 * Higher-level derivatives of whole functions (PyTorch's torch.autograd.functional): jacobian,
 * hessian, vjp, jvp, hvp. Results follow PyTorch's conventions: a single tensor input gives
 * tensors, an array of inputs gives arrays.
 */
import { NablaError } from '../errors.js';
import { Tensor } from '../tensor/tensor.js';
import { grad } from './api.js';
import { stack } from '../ops/indexing.js';

type Inputs = Tensor | readonly Tensor[];
type Fn = (...xs: Tensor[]) => Tensor | readonly Tensor[];

export interface FunctionalOptions {
  /** Keep the results differentiable (their graphs are recorded). */
  createGraph?: boolean;
  /** Throw if an output does not depend on an input (instead of returning zeros). */
  strict?: boolean;
}

function asList(x: Inputs): Tensor[] {
  return Array.isArray(x) ? (x as Tensor[]).slice() : [x as Tensor];
}

/** Fresh leaves that require grad, sharing the inputs' values (as PyTorch's _grad_preprocess). */
function prepare(inputs: Inputs, createGraph: boolean): Tensor[] {
  return asList(inputs).map((t, i) => {
    if (!(t instanceof Tensor)) throw new NablaError(`inputs[${i}] must be a Tensor`, { op: 'autograd.functional' });
    if (createGraph && t.requiresGrad) return t.viewAs(t);
    return t.detach().requiresGrad_(true);
  });
}

function outputsOf(fn: Fn, xs: Tensor[]): { outs: Tensor[]; single: boolean } {
  const r = fn(...xs);
  const single = !Array.isArray(r);
  const outs = single ? [r as Tensor] : (r as Tensor[]).slice();
  outs.forEach((o, i) => {
    if (!(o instanceof Tensor)) throw new NablaError(`the function must return Tensors (output ${i} is ${typeof o})`, { op: 'autograd.functional' });
  });
  return { outs, single };
}

function gradsOrZeros(outs: Tensor[], xs: Tensor[], gos: (Tensor | null)[], createGraph: boolean, strict: boolean, op: string): Tensor[] {
  const live = outs.map((o, i) => [o, gos[i]] as const).filter(([o]) => o.requiresGrad);
  const res = live.length
    ? grad(live.map(([o]) => o), xs, { gradOutputs: live.map(([, g]) => g), createGraph, retainGraph: true, allowUnused: true })
    : xs.map(() => null);
  return res.map((g, i) => {
    if (g) return g;
    if (strict) throw new NablaError(`The output of the user-provided function is independent of input ${i}. This is not allowed in strict mode.`, { op });
    return xs[i]!.detach().mul(0);
  });
}

function finish(t: Tensor, createGraph: boolean): Tensor {
  return createGraph ? t : t.detach();
}

/** `[outputs, vᵀ·J]`. */
export function vjp(fn: Fn, inputs: Inputs, v?: Inputs | null, opts: FunctionalOptions = {}): [Tensor | Tensor[], Tensor | Tensor[]] {
  const cg = !!opts.createGraph;
  const xs = prepare(inputs, cg);
  const { outs, single } = outputsOf(fn, xs);
  const vs = v === undefined || v === null ? outs.map(() => null) : asList(v);
  if (vs.length !== outs.length) throw new NablaError(`v has ${vs.length} entries for ${outs.length} outputs`, { op: 'vjp' });
  const gs = gradsOrZeros(outs, xs, vs, cg, !!opts.strict, 'vjp').map((g) => finish(g, cg));
  const o = outs.map((t) => finish(t, cg));
  return [single ? o[0]! : o, Array.isArray(inputs) ? gs : gs[0]!];
}

/** `[outputs, J·v]`, by the double-vjp trick (differentiate vᵀJ's graph w.r.t. a dummy v). */
export function jvp(fn: Fn, inputs: Inputs, v?: Inputs | null, opts: FunctionalOptions = {}): [Tensor | Tensor[], Tensor | Tensor[]] {
  const cg = !!opts.createGraph;
  const xs = prepare(inputs, true);
  const vs = v === undefined || v === null ? xs.map((x) => x.detach().mul(0).add(1)) : asList(v);
  if (vs.length !== xs.length) throw new NablaError(`v has ${vs.length} entries for ${xs.length} inputs`, { op: 'jvp' });
  const { outs, single } = outputsOf(fn, xs);
  const dummies = outs.map((o) => o.detach().mul(0).requiresGrad_(true));
  const gs = gradsOrZeros(outs, xs, dummies, true, !!opts.strict, 'jvp');
  const live = gs.map((g, i) => [g, vs[i]!] as const).filter(([g]) => g.requiresGrad);
  const res = live.length
    ? grad(live.map(([g]) => g), dummies, { gradOutputs: live.map(([, u]) => u), createGraph: cg, retainGraph: true, allowUnused: true })
    : dummies.map(() => null);
  const jv = res.map((r, i) => finish(r ?? outs[i]!.detach().mul(0), cg));
  const o = outs.map((t) => finish(t, cg));
  return [single ? o[0]! : o, single ? jv[0]! : jv];
}

/** The Jacobian: for one input and one output, a tensor of shape `out.shape ++ in.shape`. */
export function jacobian(fn: Fn, inputs: Inputs, opts: FunctionalOptions = {}): Tensor | Tensor[] | Tensor[][] {
  const cg = !!opts.createGraph;
  const xs = prepare(inputs, cg);
  const { outs, single } = outputsOf(fn, xs);
  const perOutput = outs.map((out) => {
    const rows: Tensor[][] = xs.map(() => []);
    const n = out.numel();
    for (let j = 0; j < n; j++) {
      const oneHot = out.rt.zeros([n], { dtype: out.dtype, device: out.device });
      oneHot.narrow(0, j, 1).fill_(1);
      const g = gradsOrZeros([out], xs, [oneHot.reshape(out.shape)], cg, !!opts.strict, 'jacobian');
      g.forEach((gi, k) => rows[k]!.push(gi));
    }
    return xs.map((x, k) => {
      const stacked = n === 0 ? x.rt.zeros([...out.shape, ...x.shape], { dtype: x.dtype, device: x.device }) : stack(rows[k]!, 0).reshape([...out.shape, ...x.shape]);
      return finish(stacked, cg);
    });
  });
  const oneInput = !Array.isArray(inputs);
  if (single) return oneInput ? perOutput[0]![0]! : perOutput[0]!;
  return oneInput ? perOutput.map((p) => p[0]!) : perOutput;
}

/** The Hessian of a scalar function: the Jacobian of its gradient. */
export function hessian(fn: Fn, inputs: Inputs, opts: FunctionalOptions = {}): Tensor | Tensor[][] {
  const oneInput = !Array.isArray(inputs);
  const gradFn = (...xs: Tensor[]): Tensor[] => {
    const { outs } = outputsOf(fn, xs);
    const out = outs[0]!;
    if (outs.length !== 1 || out.numel() !== 1) {
      throw new NablaError('The function given to hessian should return a single Tensor with one element', { op: 'hessian' });
    }
    return gradsOrZeros([out], xs, [null], true, !!opts.strict, 'hessian');
  };
  const j = jacobian((...xs) => (oneInput ? gradFn(...xs)[0]! : gradFn(...xs)), inputs, opts);
  return j as Tensor | Tensor[][];
}

/** `[fn(inputs), H·v]` for a scalar function. */
export function hvp(fn: Fn, inputs: Inputs, v: Inputs, opts: FunctionalOptions = {}): [Tensor, Tensor | Tensor[]] {
  const cg = !!opts.createGraph;
  const xs = prepare(inputs, true);
  const { outs } = outputsOf(fn, xs);
  const out = outs[0]!;
  if (outs.length !== 1 || out.numel() !== 1) throw new NablaError('The function given to hvp should return a single Tensor with one element', { op: 'hvp' });
  const gs = gradsOrZeros([out], xs, [null], true, !!opts.strict, 'hvp');
  const vs = asList(v);
  const live = gs.map((g, i) => [g, vs[i]!] as const).filter(([g]) => g.requiresGrad);
  const res = live.length
    ? grad(live.map(([g]) => g), xs, { gradOutputs: live.map(([, u]) => u), createGraph: cg, retainGraph: true, allowUnused: true })
    : xs.map(() => null);
  const hv = res.map((r, i) => finish(r ?? xs[i]!.detach().mul(0), cg));
  return [finish(out, cg), Array.isArray(inputs) ? hv : hv[0]!];
}
