/**
 * What one backward pass makes and leaves: the gradients a shared leaf receives are summed into
 * one tensor (no tensor per contribution), a pass frees what it buffered when it fails, a root
 * that no requested input depends on keeps its graph usable, and a pass run inside another never
 * frees or writes a gradient the outer pass owns. Tensors are 16 KiB so `memory()` counts them.
 */
import { autograd, createRuntime, gradcheck, type Runtime, type Tensor } from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const N = 2048;
let rt: Runtime;
beforeAll(async () => {
  rt = await createRuntime({ plugins: [cpuBackend()] });
});
afterAll(async () => {
  await rt.dispose();
});

const ramp = (scale: number, requiresGrad = false): Tensor => rt.arange(N, { dtype: 'float64' }).mul(scale / N).requiresGrad_(requiresGrad);
const live = (): number => rt.memory().numTensors;

/** How many tensors `fn` creates. */
function creations(fn: () => void): number {
  let n = 0;
  const count = (): void => void n++;
  rt.events.on('tensor:create', count);
  try {
    fn();
  } finally {
    rt.events.off('tensor:create', count);
  }
  return n;
}

describe('one backward pass', () => {
  it('sums the n contributions into a shared w and b in place: one tensor per link, and only the two .grads are left', () => {
    const n = 40;
    const w = ramp(0.9, true);
    const b = ramp(0.1, true);
    const x0 = ramp(0.3);
    const before = live();
    const ys: Tensor[] = [x0];
    for (let i = 0; i < n; i++) {
      const u = ys[ys.length - 1]!.mul(w);
      const v = u.add(b);
      ys.push(u, v, v.tanh());
    }
    const loss = ys[ys.length - 1]!.sum();
    // Per link: g·y, w's contribution, in MulBackward. tanh's backward and g·w write into the
    // gradient they were lent (no one else holds it); the sums into w's and b's slots are in place,
    // and the first of each becomes .grad itself. A few more for the root (the implicit 1, sum's
    // expanded gradient) and the last link, whose gradient b's slot shares.
    const made = creations(() => loss.backward());
    expect(made).toBeGreaterThanOrEqual(n);
    expect(made).toBeLessThanOrEqual(n + 6);
    for (const t of [...ys.slice(1), loss]) t.dispose();
    expect(live() - before, 'w.grad and b.grad').toBe(2);

    // Reverse mode by hand, per element.
    const k = 5;
    const [xv, wv, bv] = [(0.3 * k) / N, (0.9 * k) / N, (0.1 * k) / N];
    const fwd = [xv];
    for (let i = 0; i < n; i++) fwd.push(Math.tanh(fwd[i]! * wv + bv));
    let [gy, gw, gb] = [1, 0, 0];
    for (let i = n - 1; i >= 0; i--) {
      const gpre = gy * (1 - fwd[i + 1]! ** 2);
      gw += gpre * fwd[i]!;
      gb += gpre;
      gy = gpre * wv;
    }
    expect(w.grad!.dataSync()[k]).toBeCloseTo(gw, 12);
    expect(b.grad!.dataSync()[k]).toBeCloseTo(gb, 12);
  });

  it('that fails midway frees the gradients it had buffered and made', () => {
    const x = ramp(1, true);
    const a = x.mul(x);
    const e = a.exp(); // ExpBackward reads e
    const loss = e.add(a.sin()).mul(2).sum();
    e.add_(1);
    const before = live();
    // MulBackward, AddBackward and SinBackward run first and buffer gradients for a and e.
    expect(() => loss.backward()).toThrow(/modified by an inplace operation/);
    expect(live(), 'nothing the pass made survives').toBe(before);
    expect(x.grad).toBeNull();
  });

  it('leaves a root that no requested input depends on with its graph: a later backward through it is right', () => {
    const x = ramp(1, true);
    const z = ramp(2, true);
    const y1 = x.mul(3).sum();
    const y2 = z.mul(z).sum();
    const before = live();
    const [gx] = autograd.grad([y1, y2], [x], { retainGraph: true });
    expect(gx!.dataSync()[7]).toBe(3);
    expect(live() - before, 'only the returned gradient').toBe(1);
    y2.backward();
    expect(z.grad!.dataSync()[9]).toBeCloseTo((2 * 2 * 9) / N, 12);
  });

  it('run inside another (a hook) reads a gradient the outer pass owns without freeing or changing it', () => {
    const x = ramp(1, true);
    const y = x.mul(x);
    let seen: number[] = [];
    let inner: number[] = [];
    y.registerHook((g) => {
      seen = Array.from(g.dataSync());
      // The outer pass's gradient is the inner pass's output gradient: d/dx of (x·3) against g.
      const [gi] = rt.enableGrad(() => autograd.grad([x.mul(3)], [x], { gradOutputs: [g] }));
      inner = Array.from(gi!.dataSync());
      expect(g.isDisposed).toBe(false);
      expect(Array.from(g.dataSync())).toEqual(seen);
    });
    y.exp().sum().backward();
    const xs = x.dataSync();
    for (const i of [0, 100, N - 1]) {
      expect(inner[i]).toBeCloseTo(3 * seen[i]!, 12);
      expect(seen[i]).toBeCloseTo(Math.exp(xs[i]! ** 2), 12);
      expect(x.grad!.dataSync()[i]).toBeCloseTo(2 * xs[i]! * Math.exp(xs[i]! ** 2), 10);
    }
  });
});

/**
 * A built-in formula may write its result into the gradient it was given, when the engine lends it:
 * only a gradient no one else can see. Each case below shares the gradient some way; a loan taken
 * there would change what the sharer holds.
 */
describe('a gradient lent to the formula', () => {
  const exact = (t: Tensor): number[] => Array.from(t.dataSync());

  it('is not taken from a gradient a tensor hook saw: the hook\'s tensor keeps its values', () => {
    const x = ramp(1, true);
    const u = x.mul(2);
    const y = u.tanh();
    let held: Tensor | null = null;
    let snapshot: number[] = [];
    u.registerHook((g) => {
      held = g;
      snapshot = exact(g);
    });
    y.tanh().sum().backward();
    expect(exact(held!)).toEqual(snapshot);
    const xs = x.dataSync();
    const i = 777;
    const t1 = Math.tanh(2 * xs[i]!);
    expect(x.grad!.dataSync()[i]).toBeCloseTo(2 * (1 - t1 ** 2) * (1 - Math.tanh(t1) ** 2), 12);
  });

  it('is not taken from a retained .grad: retainGrad keeps dL/du, not what the next formula made', () => {
    const x = ramp(1, true);
    const w = ramp(0.5, true);
    const u = x.mul(w);
    u.retainGrad();
    const y = u.tanh();
    y.retainGrad();
    y.sum().backward();
    const xs = x.dataSync();
    const ws = w.dataSync();
    for (const i of [3, 1000, N - 1]) {
      const dy = 1 - Math.tanh(xs[i]! * ws[i]!) ** 2;
      expect(y.grad!.dataSync()[i]).toBe(1);
      expect(u.grad!.dataSync()[i]).toBeCloseTo(dy, 14);
      expect(x.grad!.dataSync()[i]).toBeCloseTo(dy * ws[i]!, 14);
      expect(w.grad!.dataSync()[i]).toBeCloseTo(dy * xs[i]!, 14);
    }
  });

  it('is never taken under createGraph: the gradient is a node of the new graph, and the second derivative is right', () => {
    const x = ramp(1, true);
    const e = x.mul(3).exp().sigmoid();
    const [g] = autograd.grad([e.sum()], [x], { createGraph: true });
    const [gg] = autograd.grad([g!.sum()], [x]);
    const xs = x.dataSync();
    for (const i of [5, 1024, N - 2]) {
      // s = sigmoid(exp(3x)): s' = 3 e s (1-s); s'' = 9 e s(1-s) [1 + e(1-2s)].
      const ex = Math.exp(3 * xs[i]!);
      const s = 1 / (1 + Math.exp(-ex));
      expect(g!.dataSync()[i]).toBeCloseTo(3 * ex * s * (1 - s), 12);
      expect(gg!.dataSync()[i]).toBeCloseTo(9 * ex * s * (1 - s) * (1 + ex * (1 - 2 * s)), 10);
    }
  });

  it('is not written by mul when the other operand brings another dtype: a float32 gradient stays float32', () => {
    const x = rt.arange(N, { dtype: 'float32' }).mul(1 / N).requiresGrad_(true);
    const w = rt.tensor(0.75, { dtype: 'float64', requiresGrad: true });
    const y = x.mul(w).tanh();
    y.sum().backward();
    expect(x.grad!.dtype).toBe('float32');
    expect(w.grad!.dtype).toBe('float64');
    const xs = x.dataSync();
    let gw = 0;
    for (let i = 0; i < N; i++) gw += (1 - Math.tanh(Math.fround(xs[i]! * 0.75)) ** 2) * xs[i]!;
    expect(x.grad!.dataSync()[9]).toBeCloseTo(0.75 * (1 - Math.tanh(Math.fround(xs[9]! * 0.75)) ** 2), 6);
    expect(w.grad!.item()).toBeCloseTo(gw, 2);
  });

  // Each of these formulas ends in one op written into a lent g (g · t, g / t, relu's mask). The
  // op sits between two multiplies so the gradient it gets is one the pass made (a loan);
  // gradcheck's own gradOutputs are the caller's and never lent.
  const ops: [string, (x: Tensor) => Tensor][] = [
    ['abs', (x) => x.abs()],
    ['sqrt', (x) => x.sqrt()],
    ['exp', (x) => x.exp()],
    ['log', (x) => x.log()],
    ['log1p', (x) => x.log1p()],
    ['expm1', (x) => x.expm1()],
    ['sin', (x) => x.sin()],
    ['tan', (x) => x.tan()],
    ['tanh', (x) => x.tanh()],
    ['sigmoid', (x) => x.sigmoid()],
    ['relu', (x) => x.relu()],
    ['square', (x) => x.square()],
    ['pow 3', (x) => x.pow(3)],
    ['div by a number', (x) => x.div(2.5)],
  ];
  for (const [name, op] of ops) {
    it(`${name}: gradcheck through a chain that lends its gradient, and the loan was taken`, () => {
      const x = rt.tensor([0.3, 0.7, 1.1, 0.45], { dtype: 'float64', requiresGrad: true });
      const w = rt.tensor([0.9, 1.2, 0.5, 1.4], { dtype: 'float64', requiresGrad: true });
      // Positive products: inside every op's domain (sqrt, log).
      const f = (a: Tensor, b: Tensor): Tensor => op(a.mul(b)).mul(1.3);
      expect(gradcheck(f, [x, w])).toBe(true);
      // The op's own result is not made: its backward makes the derivative t (and what t takes),
      // not g · t. Counted against the same chain with the gradient shared (a hook holds it).
      const made = (hooked: boolean): number => {
        const y = op(x.mul(w));
        const z = y.mul(1.3);
        if (hooked) y.registerHook(() => undefined);
        return creations(() => z.sum().backward());
      };
      expect(made(false)).toBeLessThan(made(true));
    });
  }
});
