/**
 * The scalar fast path of elementwise dispatch (`runScalarElementwise` in core's
 * `ops/elementwise/define.ts`) against the general path (`runElementwiseGeneral`): for 0-d
 * operands it must give the same values, dtypes, graph nodes, saved values and gradients, and for
 * anything it does not handle it must decline before allocating, so bad input still gets the
 * general path's error.
 */
import { createRuntime, NablaError, type Operand, type Runtime, type Tensor } from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

// Core's internals, from the same source modules '@nabla/core' resolves to under vitest. Imported
// by a computed path and typed here: the type-check resolves '@nabla/core' to dist, and a static
// import of src would mix the two declarations of Tensor.
type ElementwiseOpDef = { readonly name: string; readonly __def: true };
type Run = (def: ElementwiseOpDef, operands: readonly Operand[], params?: readonly number[]) => Tensor;
interface DefineModule {
  runElementwise: Run;
  runElementwiseGeneral: Run;
  runScalarElementwise: (def: ElementwiseOpDef, operands: readonly Operand[], params: readonly number[]) => Tensor | null;
}
const SRC = fileURLToPath(new URL('../../../packages/core/src/ops/elementwise/', import.meta.url));
let runElementwise: Run;
let runElementwiseGeneral: Run;
let runScalarElementwise: DefineModule['runScalarElementwise'];
let T: Record<'mul' | 'add' | 'sub' | 'div' | 'pow' | 'tanh' | 'sigmoid' | 'exp' | 'relu' | 'clamp' | 'maximum' | 'lt', ElementwiseOpDef>;

let rt: Runtime;
beforeAll(async () => {
  ({ runElementwise, runElementwiseGeneral, runScalarElementwise } = (await import(/* @vite-ignore */ `${SRC}define.js`)) as DefineModule);
  T = (await import(/* @vite-ignore */ `${SRC}table.js`)) as typeof T;
  rt = await createRuntime({ plugins: [cpuBackend()] });
});

type Case = { def: () => ElementwiseOpDef; operands: (leaves: Tensor[]) => Operand[]; params?: number[] };

/** Three 0-d leaves requiring grad, the same values each time. */
function leaves(dtype: 'float32' | 'float64'): Tensor[] {
  return [0.3, -1.7, 2.5].map((v) => rt.tensor(v, { dtype, requiresGrad: true }));
}

const CASES: Record<string, Case> = {
  mul: { def: () => T.mul, operands: ([a, b]) => [a!, b!] },
  add: { def: () => T.add, operands: ([a, b]) => [a!, b!] },
  'sub with a number': { def: () => T.sub, operands: ([a]) => [a!, 0.25] },
  'number / tensor': { def: () => T.div, operands: ([a]) => [3, a!] },
  'tensor ** tensor': { def: () => T.pow, operands: ([, , c]) => [c!, c!] },
  'tensor ** number': { def: () => T.pow, operands: ([a]) => [a!, 3] },
  'number ** tensor': { def: () => T.pow, operands: ([a]) => [2, a!] },
  'mul by a boolean': { def: () => T.mul, operands: ([a]) => [a!, true] },
  tanh: { def: () => T.tanh, operands: ([a]) => [a!] },
  sigmoid: { def: () => T.sigmoid, operands: ([b]) => [b!] },
  exp: { def: () => T.exp, operands: ([a]) => [a!] },
  relu: { def: () => T.relu, operands: ([, b]) => [b!] },
  'clamp (params)': { def: () => T.clamp, operands: ([b]) => [b!], params: [-1, 1] },
  maximum: { def: () => T.maximum, operands: ([a, b]) => [a!, b!] },
  'lt (bool result)': { def: () => T.lt, operands: ([a, b]) => [a!, b!] },
};

/** Everything observable about a result: values bit for bit, dtype, shape, node, saved values, gradients. */
function observe(run: (def: ElementwiseOpDef, ops: readonly Operand[], params?: number[]) => Tensor, c: Case, dtype: 'float32' | 'float64') {
  const ls = leaves(dtype);
  const y = run(c.def(), c.operands(ls), c.params);
  const node = y.gradFn;
  const seen = {
    dtype: y.dtype,
    shape: y.shape,
    values: Array.from(new Uint8Array(y.dataSync().buffer.slice(0))),
    requiresGrad: y.requiresGrad,
    node: node?.name() ?? null,
    saved: node?.savedInfo().map((s) => `${s.name}:${s.dtype}`) ?? [],
    next: node?.nextFunctions.map(([n, i]) => `${n?.name() ?? 'None'}:${i}`) ?? [],
    grads: [] as (number[] | null)[],
  };
  if (y.requiresGrad) {
    y.backward();
    seen.grads = ls.map((l) => (l.grad ? Array.from(l.grad.dataSync()) : null));
  }
  return seen;
}

describe('scalar fast path of elementwise dispatch', () => {
  for (const dtype of ['float32', 'float64'] as const) {
    for (const [name, c] of Object.entries(CASES)) {
      it(`${name} (${dtype}): takes the fast path and agrees with the general path`, () => {
        const ls = leaves(dtype);
        const fast = runScalarElementwise(c.def(), c.operands(ls), c.params ?? []);
        expect(fast).not.toBeNull();
        expect(observe((d, o, p) => runElementwise(d, o, p), c, dtype)).toEqual(observe((d, o, p) => runElementwiseGeneral(d, o, p), c, dtype));
      });
    }
  }

  it('a chain y = tanh(y·w + b) gives the same values and gradients on both paths', () => {
    const run = (fn: typeof runElementwise) => {
      const x = rt.tensor(0.3);
      const w = rt.tensor(0.5, { requiresGrad: true });
      const b = rt.tensor(0.1, { requiresGrad: true });
      let y: Tensor = x;
      for (let i = 0; i < 50; i++) y = fn(T.tanh, [fn(T.add, [fn(T.mul, [y, w]), b])]);
      y.backward();
      return [y.item(), w.grad!.item(), b.grad!.item()];
    };
    const fast = run(runElementwise);
    expect(fast).toEqual(run(runElementwiseGeneral));
    expect(fast.every(Number.isFinite)).toBe(true);
  });

  it('methods on 0-d tensors go through it (no grad mode: no node, same values)', () => {
    const a = rt.tensor(1.5, { dtype: 'float64' });
    const y = rt.noGrad(() => a.mul(a).add(1));
    expect(y.gradFn).toBeNull();
    expect(y.dtype).toBe('float64');
    expect(y.item()).toBe(3.25);
  });

  describe('declines what it does not handle, so the general path answers (same errors)', () => {
    const declined: Record<string, () => { def: ElementwiseOpDef; operands: Operand[] }> = {
      'int32 operands (promotion with numbers differs)': () => ({ def: T.add, operands: [rt.tensor(2, { dtype: 'int32' }), 0.5] }),
      'bool operands': () => ({ def: T.sub, operands: [rt.tensor(true), rt.tensor(false)] }),
      'mixed float32 and float64': () => ({ def: T.mul, operands: [rt.tensor(1), rt.tensor(2, { dtype: 'float64' })] }),
      'a 1-d operand': () => ({ def: T.mul, operands: [rt.tensor(1), rt.tensor([1, 2])] }),
      'a disposed operand': () => {
        const d = rt.tensor(1);
        d.dispose();
        return { def: T.mul, operands: [rt.tensor(1), d] };
      },
      'an operand that is not a tensor or number': () => ({ def: T.mul, operands: [rt.tensor(1), 'two' as unknown as number] }),
      'too many operands': () => ({ def: T.tanh, operands: [rt.tensor(1), rt.tensor(2)] }),
      'only numbers': () => ({ def: T.add, operands: [1, 2] }),
    };
    for (const [name, make] of Object.entries(declined)) {
      it(name, () => {
        const { def, operands } = make();
        const before = rt.memory().numTensors;
        expect(runScalarElementwise(def, operands, [])).toBeNull();
        expect(rt.memory().numTensors).toBe(before);
        const outcome = (fn: typeof runElementwise) => {
          try {
            const y = fn(def, operands);
            return { dtype: y.dtype, values: Array.from(y.dataSync()) };
          } catch (e) {
            expect(e).toBeInstanceOf(NablaError);
            return { error: (e as Error).message };
          }
        };
        expect(outcome(runElementwise)).toEqual(outcome(runElementwiseGeneral));
      });
    }

    it('tensors of two runtimes: the same device error', async () => {
      const other = await createRuntime({ plugins: [cpuBackend()] });
      const operands = [rt.tensor(1), other.tensor(2)];
      expect(runScalarElementwise(T.mul, operands, [])).toBeNull();
      expect(() => runElementwise(T.mul, operands)).toThrow(/two different runtimes/);
    });
  });
});
