/**
 * A third party's backend, written against core's public contract only, installed *after* the
 * activations plugin: it gets every activation, forward and backward, without either package
 * knowing the other.
 */
import { describe, expect, it } from 'vitest';
import {
  autograd,
  createRuntime,
  isBinary,
  isUnary,
  type Backend,
  type DType,
  type ElementwiseSpec,
  type Expr,
  type Plugin,
  type Storage,
  type Tensor,
  type TypedArray,
  type View,
} from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import * as act from '../src/index.js';

interface ToyStorage extends Storage {
  data: Float64Array;
}

const UNARY: Record<string, (a: number) => number> = {
  neg: (a) => -a, abs: Math.abs, exp: Math.exp, log: Math.log, log1p: Math.log1p, expm1: Math.expm1, tanh: Math.tanh,
  sigmoid: (a) => 1 / (1 + Math.exp(-a)), reciprocal: (a) => 1 / a, square: (a) => a * a, sqrt: Math.sqrt,
  erf: (a) => {
    // Abramowitz–Stegun 7.1.26 is plenty for a toy; this test checks wiring, not accuracy.
    const t = 1 / (1 + 0.3275911 * Math.abs(a));
    const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-a * a);
    return a < 0 ? -y : y;
  },
};
const BINARY: Record<string, (a: number, b: number) => number> = {
  add: (a, b) => a + b, sub: (a, b) => a - b, mul: (a, b) => a * b, div: (a, b) => a / b,
  max: (a, b) => (a !== a || b !== b ? NaN : Math.max(a, b)), min: (a, b) => (a !== a || b !== b ? NaN : Math.min(a, b)),
  gt: (a, b) => +(a > b), lt: (a, b) => +(a < b), le: (a, b) => +(a <= b), ge: (a, b) => +(a >= b), and: (a, b) => +(a !== 0 && b !== 0),
};

function evaluate(e: Expr, inputs: number[], params: readonly number[]): number {
  if (e.op === 'input') return inputs[e.index]!;
  if (e.op === 'param') return params[e.index]!;
  if (e.op === 'const') return e.value;
  if (e.op === 'where') return evaluate(e.cond, inputs, params) !== 0 ? evaluate(e.a, inputs, params) : evaluate(e.b, inputs, params);
  if (isUnary(e)) return UNARY[e.op]!(evaluate(e.a, inputs, params));
  if (isBinary(e)) return BINARY[e.op]!(evaluate(e.a, inputs, params), evaluate(e.b, inputs, params));
  throw new Error('unreachable');
}

function unsupported(e: Expr, refuse: ReadonlySet<string>): string | null {
  if (refuse.has(e.op)) return e.op;
  if (e.op === 'where') return unsupported(e.cond, refuse) ?? unsupported(e.a, refuse) ?? unsupported(e.b, refuse);
  if (isUnary(e)) return UNARY[e.op] ? unsupported(e.a, refuse) : e.op;
  if (isBinary(e)) return BINARY[e.op] ? unsupported(e.a, refuse) ?? unsupported(e.b, refuse) : e.op;
  return null;
}

function offsets(v: View): number[] {
  const out: number[] = [];
  const walk = (d: number, off: number): void => {
    if (d === v.shape.length) return void out.push(off);
    for (let i = 0; i < v.shape[d]!; i++) walk(d + 1, off + i * v.strides[d]!);
  };
  walk(0, v.offset);
  return out;
}

/** A float64-only device that interprets expressions element by element. */
function toyBackend(refuse: ReadonlySet<string> = new Set()): Plugin {
  const backend: Backend = {
    device: 'toy',
    dtypes: ['float64'],
    readsSync: true,
    describe: () => 'toy (expression interpreter)',
    allocate: (dtype: DType, numel: number): ToyStorage => ({ dtype, numel, byteLength: numel * 8, data: new Float64Array(numel) }),
    release: () => {},
    write: (s: Storage, data: TypedArray, offset = 0) => (s as ToyStorage).data.set(data, offset),
    readSync: (v: View) => Float64Array.from(offsets(v), (o) => (v.storage as ToyStorage).data[o]!),
    read: async (v: View) => backend.readSync!(v),
    compileElementwise(spec: ElementwiseSpec) {
      const bad = unsupported(spec.expr, refuse);
      if (bad) throw new Error(`toy backend has no '${bad}'`);
      return (out, inputs, params) => {
        const outOffs = offsets(out);
        const inOffs = inputs.map(offsets);
        const dst = (out.storage as ToyStorage).data;
        const vals = outOffs.map((_, i) => evaluate(spec.expr, inputs.map((v, k) => (v.storage as ToyStorage).data[inOffs[k]![i]!]!), params));
        outOffs.forEach((o, i) => (dst[o] = vals[i]!));
      };
    },
    synchronize: async () => {},
  };
  return { name: 'toy-backend', version: '1.0.0', install: (ctx) => ctx.registerBackend(backend) };
}

describe('a backend installed after the activations plugin', () => {
  it('runs every activation forward and backward, matching the CPU backend', async () => {
    const rt = await createRuntime({ plugins: [cpuBackend(), act.activations(), toyBackend()] });
    const xs = [-7, -3, -1.2, -0.3, 0, 0.4, 1.5, 3, 6.5, 25];
    const fns: [string, (x: Tensor) => Tensor][] = [
      ['silu', act.silu], ['mish', act.mish], ['hardswish', act.hardswish], ['hardsigmoid', act.hardsigmoid],
      ['gelu', (x) => act.gelu(x)], ['gelu tanh', (x) => act.gelu(x, { approximate: 'tanh' })], ['elu', (x) => act.elu(x, 0.7)],
      ['selu', act.selu], ['celu', (x) => act.celu(x, 1.5)], ['softplus', (x) => act.softplus(x, 2, 10)],
      ['leakyRelu', (x) => act.leakyRelu(x, 0.1)], ['relu6', act.relu6], ['hardtanh', (x) => act.hardtanh(x, -2, 2)],
      ['softsign', act.softsign], ['logsigmoid', act.logsigmoid], ['tanhshrink', act.tanhshrink],
    ];
    for (const [name, fn] of fns) {
      const results = ['cpu', 'toy'].map((device) => {
        const x = rt.tensor(xs, { dtype: 'float64', device, requiresGrad: true });
        const y = fn(x);
        const [g] = autograd.grad(y, x, { gradOutputs: [rt.onesLike(y)] });
        return { y: Array.from(y.dataSync()), g: Array.from(g!.dataSync()), device: y.device };
      });
      expect(results[1]!.device, name).toBe('toy');
      results[1]!.y.forEach((v, i) => expect(v, `${name}(${xs[i]})`).toBeCloseTo(results[0]!.y[i]!, name.startsWith('gelu') ? 6 : 12));
      results[1]!.g.forEach((v, i) => expect(v, `${name}'(${xs[i]})`).toBeCloseTo(results[0]!.g[i]!, name.startsWith('gelu') ? 6 : 12));
    }
  });

  it('that cannot compile an expression fails at install, naming the activation', async () => {
    const rt = await createRuntime({ plugins: [cpuBackend(), act.activations()] });
    await expect(rt.use(toyBackend(new Set(['erf'])))).rejects.toThrow(/cannot run activation 'gelu'.*no 'erf'/);
  });

  it('installed before the plugin is checked when the plugin installs', async () => {
    const rt = await createRuntime({ plugins: [cpuBackend(), toyBackend(new Set(['tanh']))] });
    await expect(rt.use(act.activations())).rejects.toThrow(/cannot run activation '(mish|geluTanh|tanhshrink)/);
  });
});
