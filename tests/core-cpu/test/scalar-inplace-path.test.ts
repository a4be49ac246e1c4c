/**
 * The in-place scalar path of elementwise dispatch (`runScalarElementwiseInto` in core's
 * `ops/elementwise/define.ts`): `runElementwise` with an `out` on 0-d operands, which the backward
 * engine uses to sum the 3,333 gradient contributions a shared leaf gets in the scalar chain, and
 * `add_`/`mul_`/... on 0-d tensors. It must write what the general path writes (bit for bit, in
 * `out`'s dtype), leave the version counter to its caller as the general path does, record no
 * node, and decline (doing nothing) whatever it does not handle, so the general path still answers
 * with its value or its error.
 */
import { createRuntime, NablaError, type Operand, type Runtime, type Tensor } from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

// Core's internals from source, typed here (see scalar-fast-path.test.ts for why by a computed path).
type ElementwiseOpDef = { readonly name: string; readonly __def: true };
type Run = (def: ElementwiseOpDef, operands: readonly Operand[], params?: readonly number[], out?: Tensor) => Tensor;
interface DefineModule {
  runElementwise: Run;
  runElementwiseGeneral: Run;
  runScalarElementwiseInto: (def: ElementwiseOpDef, operands: readonly Operand[], params: readonly number[], out: Tensor) => boolean;
}
const SRC = fileURLToPath(new URL('../../../packages/core/src/ops/elementwise/', import.meta.url));
let runElementwise: Run;
let runElementwiseGeneral: Run;
let runInto: DefineModule['runScalarElementwiseInto'];
let T: Record<'mul' | 'add' | 'sub' | 'div' | 'pow' | 'tanh' | 'clamp' | 'maximum' | 'lt' | 'identity', ElementwiseOpDef>;

let rt: Runtime;
beforeAll(async () => {
  ({ runElementwise, runElementwiseGeneral, runScalarElementwiseInto: runInto } = (await import(/* @vite-ignore */ `${SRC}define.js`)) as DefineModule);
  T = (await import(/* @vite-ignore */ `${SRC}table.js`)) as typeof T;
  rt = await createRuntime({ plugins: [cpuBackend()] });
});

type Dt = 'float32' | 'float64';
/** out and two other 0-d operands; `out` may also be an operand (the engine's `buf += g`). */
type Case = {
  def: () => ElementwiseOpDef;
  operands: (out: Tensor, a: Tensor, b: Tensor) => Operand[];
  params?: number[];
};

const CASES: Record<string, Case> = {
  'out += a (out is an operand)': {
    def: () => T.add,
    operands: (o, a) => [o, a],
  },
  'out = a · b': { def: () => T.mul, operands: (_, a, b) => [a, b] },
  'out = a − 0.25': { def: () => T.sub, operands: (_, a) => [a, 0.25] },
  'out = 3 / a': { def: () => T.div, operands: (_, a) => [3, a] },
  'out = out ** b': { def: () => T.pow, operands: (o, _, b) => [o, b] },
  'out = tanh(a)': { def: () => T.tanh, operands: (_, a) => [a] },
  'out = clamp(a) (params)': {
    def: () => T.clamp,
    operands: (_, a) => [a],
    params: [-1, 0.1],
  },
  'out = maximum(out, true)': {
    def: () => T.maximum,
    operands: (o) => [o, true],
  },
  'out = copy of a': { def: () => T.identity, operands: (_, a) => [a] },
};

function trio(dtype: Dt): [Tensor, Tensor, Tensor] {
  return [rt.tensor(0.7, { dtype }), rt.tensor(-1.3, { dtype }), rt.tensor(2.25, { dtype })];
}

/** The storage's version counter (PyTorch's `_version`). */
const version = (t: Tensor): number => t._ref.version;

function bits(t: Tensor): number[] {
  return Array.from(new Uint8Array(t.dataSync().buffer.slice(0)));
}

describe('in-place scalar path of elementwise dispatch', () => {
  for (const dtype of ['float32', 'float64'] as const) {
    for (const [name, c] of Object.entries(CASES)) {
      it(`${name} (${dtype}): takes the path and writes what the general path writes`, () => {
        const [o1, a1, b1] = trio(dtype);
        const [o2, a2, b2] = trio(dtype);
        const v1 = version(o1);
        const v2 = version(o2);
        const before = rt.memory().numTensors;
        expect(runInto(c.def(), c.operands(o1, a1, b1), c.params ?? [], o1)).toBe(true);
        expect(rt.memory().numTensors).toBe(before);
        expect(runElementwiseGeneral(c.def(), c.operands(o2, a2, b2), c.params, o2)).toBe(o2);
        expect(bits(o1)).toEqual(bits(o2));
        expect(o1.dtype).toBe(dtype);
        expect(o1.shape).toEqual([]);
        // Neither path bumps the version counter: their callers do, once.
        expect(version(o1)).toBe(v1);
        expect(version(o2)).toBe(v2);
        // runElementwise with an out takes it too, and returns out.
        const [o3, a3, b3] = trio(dtype);
        expect(runElementwise(c.def(), c.operands(o3, a3, b3), c.params, o3)).toBe(o3);
        expect(bits(o3)).toEqual(bits(o2));
      });
    }
  }

  it('records no node even when an operand requires grad (as the general path given an out)', () => {
    const out = rt.tensor(1);
    const a = rt.tensor(2, { requiresGrad: true });
    expect(runInto(T.mul, [a, a], [], out)).toBe(true);
    expect(out.gradFn).toBeNull();
    expect(out.requiresGrad).toBe(false);
    expect(out.item()).toBe(4);
  });

  describe('declines, doing nothing, what it does not handle', () => {
    const declined: Record<string, () => { def: ElementwiseOpDef; operands: Operand[]; out: Tensor }> = {
      'a 1-d out': () => ({
        def: T.add,
        operands: [rt.tensor(1), rt.tensor(2)],
        out: rt.tensor([5]),
      }),
      'an out of another dtype than the operands': () => ({
        def: T.add,
        operands: [rt.tensor(1, { dtype: 'float64' }), rt.tensor(2, { dtype: 'float64' })],
        out: rt.tensor(5),
      }),
      'a bool result into a float out': () => ({
        def: T.lt,
        operands: [rt.tensor(1), rt.tensor(2)],
        out: rt.tensor(5),
      }),
      'int32 operands': () => ({
        def: T.add,
        operands: [rt.tensor(1, { dtype: 'int32' }), 2],
        out: rt.tensor(5, { dtype: 'int32' }),
      }),
      'a 1-d operand': () => ({
        def: T.add,
        operands: [rt.tensor(1), rt.tensor([2])],
        out: rt.tensor(5),
      }),
      'a disposed operand': () => {
        const d = rt.tensor(2);
        d.dispose();
        return { def: T.add, operands: [rt.tensor(1), d], out: rt.tensor(5) };
      },
      'a disposed out': () => {
        const out = rt.tensor(5);
        out.dispose();
        return { def: T.add, operands: [rt.tensor(1), rt.tensor(2)], out };
      },
      'too many operands': () => ({
        def: T.tanh,
        operands: [rt.tensor(1), rt.tensor(2)],
        out: rt.tensor(5),
      }),
    };
    for (const [name, make] of Object.entries(declined)) {
      it(name, () => {
        const { def, operands, out } = make();
        const before = out.isDisposed ? null : bits(out);
        expect(runInto(def, operands, [], out)).toBe(false);
        if (before !== null) expect(bits(out)).toEqual(before);
      });
    }

    it('an out of another runtime', async () => {
      const other = await createRuntime({ plugins: [cpuBackend()] });
      const out = other.tensor(5);
      expect(runInto(T.add, [rt.tensor(1), rt.tensor(2)], [], out)).toBe(false);
      expect(out.item()).toBe(5);
      await other.dispose();
    });
  });

  describe('in-place methods on 0-d tensors (which reach it through runElementwise)', () => {
    it('add_/mul_/sub_/div_ give the values of the out-of-place ops, bump the version once, and keep the dtype', () => {
      for (const dtype of ['float32', 'float64'] as const) {
        const t = rt.tensor(0.7, { dtype });
        const g = rt.tensor(-1.3, { dtype });
        let expected = rt.tensor(0.7, { dtype });
        const v0 = version(t);
        t.add_(g).mul_(g).sub_(0.5).div_(3);
        expected = expected.add(g).mul(g).sub(0.5).div(3);
        expect(bits(t)).toEqual(bits(expected));
        expect(version(t)).toBe(v0 + 4);
        expect(t.dtype).toBe(dtype);
      }
    });

    it('the general path still answers what it declines: a float64 operand into a float32 tensor', () => {
      const t = rt.tensor(0.1);
      t.add_(rt.tensor(0.2, { dtype: 'float64' }));
      expect(t.dtype).toBe('float32');
      expect(t.item()).toBe(Math.fround(Math.fround(0.1) + 0.2));
    });

    it('the errors of in-place ops are unchanged', () => {
      const leaf = rt.tensor(1, { requiresGrad: true });
      expect(() => leaf.add_(rt.tensor(1))).toThrow(/leaf Variable that requires grad/);
      const i = rt.tensor(1, { dtype: 'int32' });
      expect(() => i.add_(rt.tensor(0.5))).toThrow(NablaError);
      expect(() => i.add_(rt.tensor(0.5))).toThrow(/can't be cast/);
      const d = rt.tensor(1);
      d.dispose();
      expect(() => d.add_(1)).toThrow(NablaError);
    });

    it('a 0-d tensor saved for backward and then modified in place still fails the version check', () => {
      const w = rt.tensor(0.5, { requiresGrad: true });
      const x = rt.tensor(2);
      const y = w.mul(x);
      x.add_(1);
      expect(() => y.backward()).toThrow(/modified by an inplace operation/);
    });
  });

  it("a shared leaf's gradient, summed in place in the engine's buffer, is the general path's sum, bit for bit", () => {
    for (const dtype of ['float32', 'float64'] as const) {
      const w = rt.tensor(0.5, { dtype, requiresGrad: true });
      const b = rt.tensor(0.1, { dtype, requiresGrad: true });
      const seen: number[] = [];
      w.registerHook((g) => {
        seen.push(g.item());
      });
      let y: Tensor = rt.tensor(0.3, { dtype });
      for (let i = 0; i < 20; i++) {
        y = y.mul(w).add(b).tanh();
      }
      y.backward();
      // The same graph and sums with an `op:dispatch` listener, which sends every op (the engine's
      // in-place sums included) down the general path.
      const w2 = rt.tensor(0.5, { dtype, requiresGrad: true });
      const b2 = rt.tensor(0.1, { dtype, requiresGrad: true });
      const dispatched: string[] = [];
      const listen = (e: { op: string }) => void dispatched.push(e.op);
      rt.events.on('op:dispatch', listen);
      try {
        let y2: Tensor = rt.tensor(0.3, { dtype });
        for (let i = 0; i < 20; i++) y2 = y2.mul(w2).add(b2).tanh();
        dispatched.length = 0;
        y2.backward();
      } finally {
        rt.events.off('op:dispatch', listen);
      }
      // At least 19 further contributions summed into each of w's and b's buffers went that way.
      expect(dispatched.filter((op) => op === 'add').length).toBeGreaterThanOrEqual(38);
      expect(bits(w.grad!)).toEqual(bits(w2.grad!));
      expect(bits(b.grad!)).toEqual(bits(b2.grad!));
      // The hook saw the summed gradient once, the value that became .grad.
      expect(seen).toEqual([w.grad!.item()]);
    }
  });
});
