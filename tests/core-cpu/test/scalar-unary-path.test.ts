/**
 * `runUnary` (core's `ops/elementwise/define.ts`), the entry of the unary methods (`x.tanh()`):
 * for a settled 0-d float operand it runs without the operands array and records its node from the
 * operand itself. It must agree with the general path (`runElementwiseGeneral`) in values (bit for
 * bit), dtype, shape, graph node, saved values, gradients and errors, and hand everything else
 * (other shapes and dtypes, disposed operands, ops with params) to `runElementwise`.
 */
import { createRuntime, NablaError, type Operand, type Runtime, type Tensor } from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

// Core's internals from source, typed here (see scalar-fast-path.test.ts for why by a computed path).
type ElementwiseOpDef = { readonly name: string; readonly __def: true };
type Run = (def: ElementwiseOpDef, operands: readonly Operand[], params?: readonly number[]) => Tensor;
interface DefineModule {
  runElementwiseGeneral: Run;
  runUnary: (def: ElementwiseOpDef, a: Tensor) => Tensor;
}
type Name = 'tanh' | 'sigmoid' | 'exp' | 'log' | 'neg' | 'abs' | 'relu' | 'sqrt' | 'square' | 'floor' | 'logicalNot' | 'isnan' | 'clamp';
const SRC = fileURLToPath(new URL('../../../packages/core/src/ops/elementwise/', import.meta.url));
let general: Run;
let runUnary: DefineModule['runUnary'];
let T: Record<Name, ElementwiseOpDef>;

let rt: Runtime;
beforeAll(async () => {
  ({ runElementwiseGeneral: general, runUnary } = (await import(/* @vite-ignore */ `${SRC}define.js`)) as DefineModule);
  T = (await import(/* @vite-ignore */ `${SRC}table.js`)) as typeof T;
  rt = await createRuntime({ plugins: [cpuBackend()] });
});

function bits(t: Tensor): number[] {
  return Array.from(new Uint8Array(t.dataSync().buffer.slice(0)));
}

/** Everything observable about a result. */
function seen(t: Tensor) {
  return { dtype: t.dtype, shape: t.shape, bits: bits(t), requiresGrad: t.requiresGrad, node: t.gradFn?.name() ?? null };
}

const NAMES: Name[] = ['tanh', 'sigmoid', 'exp', 'log', 'neg', 'abs', 'relu', 'sqrt', 'square', 'floor', 'logicalNot', 'isnan'];
const DIFFERENTIABLE: Name[] = ['tanh', 'sigmoid', 'exp', 'log', 'neg', 'abs', 'relu', 'sqrt', 'square'];

describe('runUnary: the unary scalar entry', () => {
  for (const dtype of ['float32', 'float64'] as const) {
    it(`agrees with the general path bit for bit, without a graph (${dtype})`, () => {
      for (const name of NAMES) {
        for (const v of [0.7, -1.3, 0, Number.NaN]) {
          // Twice: an op's first call for a dtype goes through runElementwise (it fills the memo);
          // the second takes the path itself.
          for (let k = 0; k < 2; k++) {
            const a = rt.tensor(v, { dtype });
            const fast = rt.noGrad(() => runUnary(T[name], a));
            const slow = rt.noGrad(() => general(T[name], [a]));
            expect(seen(fast), `${name}(${v})`).toEqual(seen(slow));
          }
        }
      }
    });
  }

  it('records the same node, saved values, edges and gradients when the operand requires grad', () => {
    for (const name of DIFFERENTIABLE) {
      const run = (fn: (a: Tensor) => Tensor) => {
        const w = rt.tensor(0.6, { dtype: 'float64', requiresGrad: true });
        // Through a graph result and through a leaf: both kinds of edge.
        const a = w.mul(1.5);
        const y = fn(a).add(fn(w));
        const nodes = [y.gradFn!.nextFunctions[0]![0]!, y.gradFn!.nextFunctions[1]![0]!];
        const info = nodes.map((n) => ({
          node: n.name(),
          saved: n.savedInfo().map((s) => `${s.name}:${s.dtype}:${s.shape.length}`),
          next: n.nextFunctions.map(([c, i]) => `${c?.name() ?? 'None'}:${i}`),
        }));
        y.backward();
        return { info, value: y.item(), grad: w.grad!.item() };
      };
      const expected = run((a) => general(T[name], [a]));
      expect(run((a) => runUnary(T[name], a)), name).toEqual(expected);
      expect(run((a) => runUnary(T[name], a)), name).toEqual(expected);
    }
  });

  it('the methods go through it: x.tanh() is what runUnary gives', () => {
    const x = rt.tensor(0.25, { requiresGrad: true });
    const y = x.tanh();
    expect(y.gradFn!.name()).toBe('TanhBackward0');
    expect(y.gradFn!.savedInfo().map((s) => s.name)).toEqual(['result']);
    y.backward();
    expect(x.grad!.item()).toBeCloseTo(1 - Math.tanh(0.25) ** 2, 6);
  });

  describe('what it hands to the general path', () => {
    const outcome = (fn: () => Tensor) => {
      try {
        const t = fn();
        return { shape: t.shape, dtype: t.dtype, values: Array.from(t.dataSync()) };
      } catch (e) {
        expect(e).toBeInstanceOf(NablaError);
        return { error: (e as Error).message };
      }
    };
    it('a disposed operand, an int32 or bool operand, a 1-d operand, an op with params', () => {
      const disposed = rt.tensor(1);
      disposed.dispose();
      const cases: [Name, Tensor][] = [
        ['tanh', disposed],
        ['neg', rt.tensor(3, { dtype: 'int32' })],
        ['sqrt', rt.tensor(4, { dtype: 'int32' })],
        ['neg', rt.tensor(true, { dtype: 'bool' })],
        ['tanh', rt.tensor([0.5, -0.5])],
        // clamp has params: runUnary must not run it without them.
        ['clamp', rt.tensor(2)],
      ];
      for (const [name, a] of cases) {
        const params = name === 'clamp' ? [-1, 1] : undefined;
        const got = outcome(() => rt.noGrad(() => (params ? general(T[name], [a], params) : runUnary(T[name], a))));
        expect(got, name).toEqual(outcome(() => rt.noGrad(() => general(T[name], [a], params))));
      }
      // An op with params given to runUnary goes the general way, which reports the missing params.
      expect(outcome(() => runUnary(T.clamp, rt.tensor(2)))).toEqual(outcome(() => general(T.clamp, [rt.tensor(2)])));
    });
  });
});
