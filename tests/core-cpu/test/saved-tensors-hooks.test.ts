/**
 * nabla.autograd.graph.savedTensorsHooks (PyTorch's torch.autograd.graph.saved_tensors_hooks):
 * every tensor saved for backward goes through pack and comes back through unpack, with the same
 * gradients (first and second order), nesting, version checks after unpack, and clear errors.
 */
import * as nabla from '@nabla/core';
import { NablaError, type FunctionCtx, type Tensor } from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';

beforeAll(async () => {
  await nabla.use(cpuBackend());
});

const { savedTensorsHooks, currentSavedTensorsHooks, withoutSavedTensorsHooks } = nabla.autograd.graph;

class Cube extends nabla.Function {
  static override forward(ctx: FunctionCtx, x: Tensor): Tensor {
    const y = x.pow(3);
    ctx.saveForBackward(x, y); // an input and the output
    return y;
  }
  static override backward(ctx: FunctionCtx, g: Tensor): Tensor {
    const [x, y] = ctx.savedTensors;
    return g.mul(y!.mul(3).div(x!)); // 3y/x = 3x², reading the saved output
  }
}

/** A small net touching the kinds of saves: inputs, outputs, int32 indices, a custom Function. */
function net(x: Tensor, w: Tensor): Tensor {
  const h = x.matmul(w).tanh(); // MmBackward0 saves inputs, TanhBackward0 its output
  const s = h.sigmoid().mul(h.exp()); // output saves and an input save
  const m = s.max(1, false).values; // MaxBackward0 saves int32 indices
  const c = Cube.apply(m.add(1.5));
  return c.sum().add(s.softmax(1).square().sum());
}

function inputs(): [Tensor, Tensor] {
  nabla.manualSeed(3);
  const x = nabla.randn([4, 3], { dtype: 'float64', requiresGrad: true });
  const w = nabla.randn([3, 5], { dtype: 'float64', requiresGrad: true });
  return [x, w];
}

/** Gradients of net w.r.t. x and w, and second-order gradients of ‖∂net/∂x‖² w.r.t. both. */
function grads(run: (f: () => Tensor) => Tensor): number[][] {
  const [x, w] = inputs();
  const out = run(() => net(x, w));
  const [gx, gw] = nabla.autograd.grad(out, [x, w], { createGraph: true }) as Tensor[];
  const [ggx, ggw] = nabla.autograd.grad(gx!.square().sum().add(gw!.sum()), [x, w]) as Tensor[];
  return [gx!, gw!, ggx!, ggw!].map((t) => Array.from(t.dataSync()));
}

describe('savedTensorsHooks', () => {
  it('calls pack once per saved tensor and unpack once per read, and the gradients equal those without hooks (first and second order)', () => {
    const plain = grads((f) => f());
    const packed: Tensor[] = [];
    let unpacked = 0;
    const hooked = grads((f) =>
      savedTensorsHooks(
        (t) => {
          packed.push(t);
          return { copy: t.clone() }; // a different tensor: unpack's result must be re-wired into the graph
        },
        (h) => {
          unpacked++;
          return h.copy;
        },
        f,
      ),
    );
    expect(hooked).toEqual(plain);
    // mm: 2 inputs; tanh, sigmoid, exp: their outputs; mul: 2 inputs; max: the int32 indices;
    // Cube: x and its output; softmax: its output; square: its input. add and sum save nothing.
    expect(packed.length).toBe(12);
    expect(packed.some((t) => t.dtype === 'int32')).toBe(true);
    // The first backward reads each packed tensor once; the second-order pass reads them again
    // through the gradient graph only where formulas of formulas need them, never through pack.
    expect(unpacked).toBeGreaterThanOrEqual(12);
  });

  it('counts exactly: one pack and one unpack per saved tensor in a first-order backward', () => {
    const x = nabla.tensor([1, 2, 3], { requiresGrad: true, dtype: 'float64' });
    let packs = 0;
    let unpacks = 0;
    const y = savedTensorsHooks(
      (t) => (packs++, t),
      (t) => (unpacks++, t),
      () => x.mul(x).exp().sum(), // MulBackward0 saves x twice, ExpBackward0 its output
    );
    expect(packs).toBe(3);
    expect(unpacks).toBe(0);
    y.backward();
    expect(unpacks).toBe(3);
    const e = x.detach().square().exp();
    expect(Array.from(x.grad!.dataSync())).toEqual(Array.from(e.mul(x.detach()).mul(2).dataSync()));
  });

  it('keeps an operand of mm, bmm and dot only when the other needs a gradient (PyTorch 1.13: one pack and one unpack each here)', () => {
    const cases: [string, () => Tensor, Tensor][] = [];
    const w = nabla.randn([4, 2], { requiresGrad: true });
    cases.push(['mm', () => nabla.randn([3, 4]).mm(w), w]);
    const b = nabla.randn([2, 4, 5], { requiresGrad: true });
    cases.push(['bmm', () => nabla.randn([2, 3, 4]).bmm(b), b]);
    const v = nabla.randn([4], { requiresGrad: true });
    cases.push(['dot', () => nabla.randn([4]).dot(v), v]);
    const x = nabla.randn([3, 4], { requiresGrad: true });
    cases.push(['mm, first operand', () => x.mm(nabla.randn([4, 2])), x]);
    for (const [name, f, leaf] of cases) {
      let packs = 0;
      let unpacks = 0;
      const y = savedTensorsHooks((t) => (packs++, t), (t) => (unpacks++, t), f);
      y.sum().backward();
      expect({ name, packs, unpacks }).toEqual({ name, packs: 1, unpacks: 1 });
      expect(leaf.grad).not.toBeNull();
    }
    // Both operands needing gradients: both kept, and both gradients right.
    const p = nabla.tensor([[1, 2], [3, 4]], { requiresGrad: true, dtype: 'float64' });
    const q = nabla.tensor([[5, 6], [7, 8]], { requiresGrad: true, dtype: 'float64' });
    let packs = 0;
    savedTensorsHooks((t) => (packs++, t), (t) => t, () => p.mm(q)).sum().backward();
    expect(packs).toBe(2);
    expect(Array.from(p.grad!.dataSync())).toEqual([11, 15, 11, 15]);
    expect(Array.from(q.grad!.dataSync())).toEqual([4, 4, 6, 6]);
  });

  it('passes gradcheck and gradgradcheck inside hooks that copy', () => {
    const copy = <T>(f: () => T): T => savedTensorsHooks((t) => t.clone(), (c) => c, f);
    const x = nabla.tensor([-1.2, 0.3, 0.8], { dtype: 'float64', requiresGrad: true });
    const f = (t: Tensor): Tensor => copy(() => t.tanh().mul(t.sigmoid()).add(Cube.apply(t).mul(0.1)));
    expect(nabla.gradcheck(f, [x])).toBe(true);
    expect(nabla.gradgradcheck(f, [x])).toBe(true);
  });

  it('nests (the innermost pair wins), restores the outer pair on exit even after a throw, and can be switched off', () => {
    const x = nabla.tensor([1, 2], { requiresGrad: true });
    const seen: string[] = [];
    const tag =
      (name: string) =>
      (t: Tensor): Tensor => (seen.push(name), t);
    const id = (t: Tensor): Tensor => t;
    expect(currentSavedTensorsHooks()).toBeNull();
    const outerPack = tag('outer');
    savedTensorsHooks(outerPack, id, () => {
      x.exp();
      savedTensorsHooks(tag('inner'), id, () => x.exp());
      expect(() => savedTensorsHooks(tag('inner'), id, () => { throw new Error('boom'); })).toThrow('boom');
      expect(currentSavedTensorsHooks()!.pack).toBe(outerPack);
      withoutSavedTensorsHooks(() => {
        expect(currentSavedTensorsHooks()).toBeNull();
        x.exp();
        savedTensorsHooks(tag('inside-without'), id, () => x.exp());
      });
      x.exp();
    });
    expect(seen).toEqual(['outer', 'inner', 'inside-without', 'outer']);
    expect(currentSavedTensorsHooks()).toBeNull();
  });

  it('supports a pack that returns a handle and an unpack that recomputes (checkpointing)', () => {
    // PyTorch's non-reentrant checkpoint: forward keeps only counters; the first unpack reruns the
    // function under inner hooks that capture, in the same order, what it saves.
    function checkpoint(fn: (t: Tensor) => Tensor, input: Tensor): Tensor {
      let n = 0;
      let recomputed: Tensor[] | null = null;
      return savedTensorsHooks(
        () => n++,
        (k: number) => {
          if (recomputed === null) {
            const store: Tensor[] = [];
            nabla.outsideTidy(() =>
              nabla.enableGrad(() =>
                savedTensorsHooks(
                  (t) => void store.push(t.detach()),
                  () => {
                    throw new Error('never unpacked');
                  },
                  () => fn(input.detach().requiresGrad_(input.requiresGrad)),
                ),
              ),
            );
            recomputed = store;
          }
          return recomputed[k]!;
        },
        () => fn(input),
      );
    }
    const f = (t: Tensor): Tensor => t.tanh().exp().mul(t.sin());
    const x = nabla.tensor([[0.1, -0.4], [0.9, 1.3]], { dtype: 'float64', requiresGrad: true });
    const [want] = nabla.autograd.grad(f(x).sum(), x) as Tensor[];
    const [got] = nabla.autograd.grad(checkpoint(f, x).sum(), x) as Tensor[];
    expect(Array.from(got!.dataSync())).toEqual(Array.from(want!.dataSync()));
  });

  it('keeps no device memory for what it packed away: a forward in a tidy frees its activations', () => {
    const x = nabla.randn([64, 64], { requiresGrad: true }); // 16 KiB: counted by memory()
    const run = (hooked: boolean): number => {
      const base = nabla.memory().numBytes;
      const y = nabla.tidy(() => {
        const f = (): Tensor => x.exp().sin().cos().sum();
        return hooked ? savedTensorsHooks((t) => t.shape, () => nabla.zeros([64, 64]), f) : f();
      });
      // y, the 0-d sum the tidy returns, is not an activation: leave its 4 bytes out.
      const held = nabla.memory().numBytes - base - y.numel() * 4;
      y.dispose();
      return held;
    };
    expect(run(false)).toBe(2 * 64 * 64 * 4); // exp's output (= sin's input) and cos's input
    expect(run(true)).toBe(0);
  });

  it('calls release once per handle when the graph lets go (not while retainGraph keeps it)', () => {
    const x = nabla.tensor([1, 2, 3], { requiresGrad: true });
    const released: number[] = [];
    let n = 0;
    const y = savedTensorsHooks(
      (t) => ({ id: n++, copy: t.clone() }),
      (h) => h.copy,
      () => x.exp().sin().sum(),
      { release: (h) => (released.push(h.id), h.copy.dispose()) },
    );
    y.backward(null, { retainGraph: true });
    expect(released).toEqual([]);
    y.backward();
    expect(released.sort()).toEqual([0, 1]);
    expect(Array.from(x.grad!.dataSync())).toEqual(Array.from(x.detach().exp().cos().mul(x.detach().exp()).mul(2).dataSync()));
  });

  it('lets backward run after the tidy that made the graph, with a pack that returns the tensor itself', () => {
    const x = nabla.randn([64, 64], { requiresGrad: true });
    const y = nabla.tidy(() => savedTensorsHooks((t) => t, (t) => t, () => x.exp().sum()));
    y.backward();
    expect(Array.from(x.grad!.dataSync())).toEqual(Array.from(x.detach().exp().dataSync()));
  });
});

describe('savedTensorsHooks errors', () => {
  const x = (): Tensor => nabla.tensor([0.5, 1.5], { requiresGrad: true });

  it('checks the version counter after unpack: an in-place change since the save is an error, even with a copy', () => {
    const a = x();
    const b = a.mul(2);
    const y = savedTensorsHooks((t) => t.clone(), (c) => c, () => b.exp().mul(b).sum());
    b.add_(1);
    expect(() => y.backward()).toThrow(NablaError);
    const a2 = x();
    const b2 = a2.mul(2);
    const y2 = savedTensorsHooks((t) => t.clone(), (c) => c, () => b2.mul(a2).sum());
    b2.add_(1);
    expect(() => y2.backward()).toThrow(/modified by an inplace operation: \[float32 \[2\]\], which is output 0 of MulBackward0, is at version 1; expected version 0/);
  });

  it('names the node and both shapes when unpack returns the wrong shape, dtype or device', () => {
    const cases: [string, (t: Tensor) => Tensor, RegExp][] = [
      ['shape', () => nabla.zeros([3]), /ExpBackward0: .*returned a tensor of shape \[3\], dtype float32, device cpu, but the tensor saved for backward had shape \[2\], dtype float32, device cpu/],
      ['dtype', (t) => t.to('float64'), /ExpBackward0: .*dtype float64.*had shape \[2\], dtype float32/],
      ['not a tensor', () => 3 as unknown as Tensor, /must return a Tensor, got number/],
    ];
    for (const [what, unpack, message] of cases) {
      const y = savedTensorsHooks((t) => t.detach(), unpack, () => x().exp().sum());
      let err: unknown = null;
      try {
        y.backward();
      } catch (e) {
        err = e;
      }
      expect(err, what).toBeInstanceOf(NablaError);
      expect((err as Error).message, what).toMatch(message);
    }
  });

  it('refuses a pack hook that modifies its input in place, and an async function', () => {
    const a = x().mul(1);
    expect(() => savedTensorsHooks((t) => t.add_(1), (t) => t, () => a.exp())).toThrow(/pack hook is modifying its input in place/);
    expect(() => savedTensorsHooks((t) => t, (t) => t, async () => a.exp())).toThrow(/cannot run an async function/);
    expect(() => savedTensorsHooks('pack' as never, (t: Tensor) => t, () => a.exp())).toThrow(NablaError);
    expect(currentSavedTensorsHooks()).toBeNull();
  });
});

describe('Node.savedInfo', () => {
  it("describes what a node saved with PyTorch's names, without unpacking it", () => {
    const x = nabla.tensor([1, 2], { requiresGrad: true });
    const y = nabla.tensor([3, 4], { requiresGrad: true, dtype: 'float64' });
    const z = x.mul(y);
    expect(z.gradFn!.savedInfo()).toEqual([
      { name: 'self', shape: [2], dtype: 'float32', device: 'cpu', bytes: 8, packed: false },
      { name: 'other', shape: [2], dtype: 'float64', device: 'cpu', bytes: 16, packed: false },
    ]);
    let unpacks = 0;
    const e = savedTensorsHooks((t) => t, (t) => (unpacks++, t), () => x.exp());
    expect(e.gradFn!.savedInfo()).toEqual([{ name: 'result', shape: [2], dtype: 'float32', device: 'cpu', bytes: 8, packed: true }]);
    expect(Cube.apply(x).gradFn!.savedInfo().map((s) => s.name)).toEqual(['saved0', 'saved1']);
    expect(unpacks).toBe(0);
  });
});
