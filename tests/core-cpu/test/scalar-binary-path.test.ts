/**
 * `runBinary` (core's `ops/elementwise/define.ts`), the entry of the binary methods (`a.mul(b)`),
 * of `g.mul(x)` and `tanh_backward(g, y)` in gradient formulas and of the engine's in-place
 * `buf += g`: where no graph is recorded it runs 0-d operands without the operands array. It must
 * agree with the general path (`runElementwiseGeneral`) in values (bit for bit), dtype, shape,
 * graph node, gradients and errors, and hand everything else to `runElementwise`.
 */
import { autograd, createRuntime, NablaError, type Operand, type Runtime, type Tensor } from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

// Core's internals from source, typed here (see scalar-fast-path.test.ts for why by a computed path).
type ElementwiseOpDef = { readonly name: string; readonly __def: true };
type Run = (def: ElementwiseOpDef, operands: readonly Operand[], params?: readonly number[], out?: Tensor) => Tensor;
interface DefineModule {
  runElementwiseGeneral: Run;
  runBinary: (def: ElementwiseOpDef, a: Tensor, b: Operand, out?: Tensor) => Tensor;
}
const SRC = fileURLToPath(new URL('../../../packages/core/src/ops/elementwise/', import.meta.url));
let general: Run;
let runBinary: DefineModule['runBinary'];
let T: Record<'mul' | 'add' | 'sub' | 'div' | 'pow' | 'maximum' | 'lt', ElementwiseOpDef>;
let tanhBackward: ElementwiseOpDef;

let rt: Runtime;
beforeAll(async () => {
  ({ runElementwiseGeneral: general, runBinary } = (await import(/* @vite-ignore */ `${SRC}define.js`)) as DefineModule);
  T = (await import(/* @vite-ignore */ `${SRC}table.js`)) as typeof T;
  ({ tanhBackward } = (await import(/* @vite-ignore */ `${SRC}activation-backward.js`)) as { tanhBackward: ElementwiseOpDef });
  rt = await createRuntime({ plugins: [cpuBackend()] });
});

type Dt = 'float32' | 'float64';

function bits(t: Tensor): number[] {
  return Array.from(new Uint8Array(t.dataSync().buffer.slice(0)));
}

/** Everything observable about a result made without recording. */
function seen(t: Tensor) {
  return { dtype: t.dtype, shape: t.shape, bits: bits(t), gradFn: t.gradFn, requiresGrad: t.requiresGrad };
}

const DEFS = (): [string, ElementwiseOpDef][] => [
  ['mul', T.mul],
  ['add', T.add],
  ['sub', T.sub],
  ['div', T.div],
  ['pow', T.pow],
  ['maximum', T.maximum],
  ['lt (bool result)', T.lt],
  ['tanhBackward', tanhBackward],
];

describe('runBinary: the binary scalar entry', () => {
  for (const dtype of ['float32', 'float64'] as const) {
    it(`agrees with the general path for tensor, number and boolean operands without a graph (${dtype})`, () => {
      for (const [name, def] of DEFS()) {
        for (const other of [(d: Dt) => rt.tensor(-1.3, { dtype: d }), () => 0.37, () => 2, () => true]) {
          // Twice: the first call of an op for an operand kind goes through runElementwise (it fills
          // the memo); the second takes the path itself.
          for (let k = 0; k < 2; k++) {
            const a = rt.tensor(0.7, { dtype });
            const b: Operand = other(dtype);
            const fast = rt.noGrad(() => runBinary(def, a, b));
            const slow = general(def, [a, b]);
            expect(seen(fast), `${name} ${String(b)}`).toEqual(seen(slow));
          }
        }
      }
    });
  }

  it('records the same node, saved values, edges and gradients when an operand requires grad', () => {
    for (const [name, def] of DEFS()) {
      if (name.startsWith('lt') || name === 'tanhBackward') continue;
      const grads = (fn: (a: Tensor, b: Tensor) => Tensor) => {
        const a = rt.tensor(0.7, { dtype: 'float64', requiresGrad: true });
        const b = rt.tensor(1.3, { dtype: 'float64', requiresGrad: true });
        const y = fn(a, b);
        const node = y.gradFn!;
        const info = {
          node: node.name(),
          saved: node.savedInfo().map((s) => `${s.name}:${s.dtype}`),
          next: node.nextFunctions.map(([n, i]) => `${n?.name() ?? 'None'}:${i}`),
          value: y.item(),
        };
        y.backward();
        return { ...info, ga: a.grad!.item(), gb: b.grad!.item() };
      };
      const expected = grads((a, b) => general(def, [a, b]));
      // Twice: the second call records from runBinary itself (the memo is filled).
      expect(grads((a, b) => runBinary(def, a, b)), name).toEqual(expected);
      expect(grads((a, b) => runBinary(def, a, b)), name).toEqual(expected);
      // With a number operand: only the tensor's gradient.
      const x1 = rt.tensor(0.7, { dtype: 'float64', requiresGrad: true });
      const x2 = rt.tensor(0.7, { dtype: 'float64', requiresGrad: true });
      const y1 = runBinary(def, x1, 1.5);
      const y2 = general(def, [x2, 1.5]);
      expect(y1.gradFn!.name()).toBe(y2.gradFn!.name());
      y1.backward();
      y2.backward();
      expect(x1.grad!.item()).toBe(x2.grad!.item());
    }
  });

  it("tanh's gradient stays differentiable (createGraph takes the recording path)", () => {
    const x = rt.tensor(0.4, { dtype: 'float64', requiresGrad: true });
    const y = x.tanh();
    const [g] = autograd.grad(y, [x], { createGraph: true });
    expect(g!.requiresGrad).toBe(true);
    const [gg] = autograd.grad(g!, [x]);
    const t = Math.tanh(0.4);
    expect(gg!.item()).toBeCloseTo(-2 * t * (1 - t * t), 14);
  });

  describe('with an out (the engine accumulating a gradient)', () => {
    for (const dtype of ['float32', 'float64'] as const) {
      it(`writes what the general path writes and leaves the version counter alone (${dtype})`, () => {
        for (let k = 0; k < 2; k++) {
          const p1 = rt.tensor(0.7, { dtype });
          const p2 = rt.tensor(0.7, { dtype });
          const g = rt.tensor(-1.3, { dtype });
          const v = p1._ref.version;
          const before = rt.memory().numTensors;
          expect(runBinary(T.add, p1, g, p1)).toBe(p1);
          expect(rt.memory().numTensors).toBe(before);
          expect(general(T.add, [p2, g], [], p2)).toBe(p2);
          expect(bits(p1)).toEqual(bits(p2));
          expect(p1._ref.version).toBe(v);
        }
      });
    }

    it('hands an out it does not take to the general path (a float64 sum into a float32 tensor)', () => {
      const p1 = rt.tensor(0.1);
      const p2 = rt.tensor(0.1);
      const g = rt.tensor(0.2, { dtype: 'float64' });
      runBinary(T.add, p1, g, p1);
      general(T.add, [p2, g], [], p2);
      expect(p1.dtype).toBe('float32');
      expect(bits(p1)).toEqual(bits(p2));
    });

    it('a bool result into a bool out: the general path answers, with its value', () => {
      const o1 = rt.tensor(false);
      const o2 = rt.tensor(false);
      const a = rt.tensor(1);
      const b = rt.tensor(2);
      runBinary(T.lt, a, b, o1);
      general(T.lt, [a, b], [], o2);
      expect(o1.item()).toBe(o2.item());
      expect(Boolean(o1.item())).toBe(true);
    });
  });

  describe('errors are the general path’s', () => {
    const outcome = (fn: () => Tensor) => {
      try {
        return { value: fn().item() };
      } catch (e) {
        expect(e).toBeInstanceOf(NablaError);
        return { error: (e as Error).message };
      }
    };
    it('a disposed operand, a non-tensor operand, tensors of two runtimes, mixed dtypes, an int32 operand', async () => {
      const other = await createRuntime({ plugins: [cpuBackend()] });
      const disposed = rt.tensor(1);
      disposed.dispose();
      const cases: [Tensor, Operand][] = [
        [rt.tensor(1), disposed],
        [disposed, rt.tensor(1)],
        [rt.tensor(1), 'two' as unknown as number],
        [rt.tensor(1), other.tensor(2)],
        [rt.tensor(1), rt.tensor(2, { dtype: 'float64' })],
        [rt.tensor(3, { dtype: 'int32' }), 0.5],
      ];
      for (const [a, b] of cases) {
        const got = outcome(() => rt.noGrad(() => runBinary(T.mul, a, b)));
        expect(got).toEqual(outcome(() => rt.noGrad(() => general(T.mul, [a, b]))));
      }
      await other.dispose();
    });
  });
});
