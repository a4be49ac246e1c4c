/**
 * The tutorials' introspection examples (seeds: "Using Hooks for Introspection", gradient hooks,
 * gradient-magnitude monitoring, TensorBoard histogram logging, gradient noise and masking) ported
 * to Nabla, plus the clipping hook and global module hooks by path.
 */
import { createRuntime, NablaError, type MaybeGrad, type Runtime, type Tensor } from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import * as nn from '@nabla/nn';
import { beforeAll, describe, expect, it } from 'vitest';
import { GradientRecorder, gradientClipHook, registerModuleForwardHook, registerModuleFullBackwardHook, saveAsFloat16, saveOnCpu, watch } from '../src/index.js';

let rt: Runtime;
beforeAll(async () => {
  rt = await createRuntime({ plugins: [cpuBackend()] });
});

class SimpleNet extends nn.Module {
  fc1: nn.Linear;
  fc2: nn.Linear;
  fc3: nn.Linear;
  constructor() {
    super();
    this.fc1 = new nn.Linear(10, 20, { runtime: rt });
    this.fc2 = new nn.Linear(20, 10, { runtime: rt });
    this.fc3 = new nn.Linear(10, 2, { runtime: rt });
  }
  override forward(x: Tensor): Tensor {
    return this.fc3.call(this.fc2.call(this.fc1.call(x).relu()).relu());
  }
}

describe("the tutorials' introspection examples", () => {
  it('forward hooks record activations and full backward hooks record output gradients', () => {
    rt.manualSeed(0);
    const model = new SimpleNet();
    const activations: Record<string, Tensor> = {};
    const gradients: Record<string, Tensor> = {};
    const handles = model
      .namedModules()
      .filter(([, m]) => m instanceof nn.Linear)
      .flatMap(([name, layer]) => [
        layer.registerForwardHook((_m, _in, out) => void (activations[name] = (out as Tensor).detach())),
        layer.registerFullBackwardHook((_m, _gIn, gOut: MaybeGrad[]) => void (gradients[name] = gOut[0]!.detach())),
      ]);
    const y = model.call(rt.randn([1, 10]));
    y.sum().backward();
    expect(Object.keys(activations)).toEqual(['fc1', 'fc2', 'fc3']);
    expect(Object.fromEntries(Object.entries(activations).map(([k, a]) => [k, a.shape]))).toEqual({ fc1: [1, 20], fc2: [1, 10], fc3: [1, 2] });
    expect(gradients.fc3!.tolist()).toEqual([[1, 1]]); // d(sum)/d(fc3 output)
    // fc2's output gradient: fc3's weight summed over outputs, where the ReLU after fc2 passed.
    const w3 = model.fc3.weight.sum(0).tolist() as number[];
    const passed = (activations.fc2!.tolist() as number[][])[0]!.map((a) => (a > 0 ? 1 : 0));
    (gradients.fc2!.tolist() as number[][])[0]!.forEach((g, i) => expect(g).toBeCloseTo(w3[i]! * passed[i]!, 6));
    handles.forEach((h) => h.remove());
  });

  it('a tensor hook doubles a gradient (y.register_hook)', () => {
    const x = rt.randn([3], { requiresGrad: true });
    const y = x.pow(2);
    const shapes: number[][] = [];
    const h = y.registerHook((g) => (shapes.push([...g.shape]), g.mul(2)));
    y.backward(rt.ones([3]));
    h.remove();
    expect(shapes).toEqual([[3]]);
    (x.grad!.tolist() as number[]).forEach((g, i) => expect(g).toBeCloseTo(4 * (x.tolist() as number[])[i]!, 5));
  });

  it('monitors gradient magnitudes and logs histograms, as SummaryWriter.add_histogram per parameter', () => {
    rt.manualSeed(1);
    const model = new SimpleNet();
    const rec = new GradientRecorder(model, { bins: 10 });
    for (let epoch = 0; epoch < 3; epoch++) {
      model.zeroGrad();
      model.call(rt.randn([8, 10])).square().mean().backward();
      rec.step();
    }
    const last = rec.latest()!;
    const norms = model.namedParameters().map(([n]) => last.grads![n]!.norm);
    const meanNorm = norms.reduce((a, b) => a + b, 0) / norms.length; // "Mean gradient norm"
    expect(meanNorm).toBeGreaterThan(0);
    expect(Object.values(last.grads!).every((s) => s.nanCount === 0)).toBe(true); // "NaN gradients detected?" no
    for (const [name, p] of model.namedParameters()) expect(last.grads![name]!.histogram.counts.reduce((a, b) => a + b, 0)).toBe(p.numel());
    expect(rec.history.length).toBe(3);
  });

  it('clips gradients with a hook and notes the fraction clipped', () => {
    rt.manualSeed(2);
    const model = new SimpleNet();
    const rec = watch(model);
    const clip = gradientClipHook(model.parameters(), { maxNorm: 1 }, { recorder: rec });
    model.call(rt.randn([1, 10])).mul(1000).sum().backward(); // a large gradient
    rec.step();
    for (const p of model.parameters()) expect(p.grad!.norm().item()).toBeLessThanOrEqual(1 + 1e-4);
    expect(rec.latest()!.scalars!.clipped).toBeGreaterThan(0.5);
    clip.remove();

    model.zeroGrad();
    const global = gradientClipHook(model.parameters(), { maxNorm: 1, global: true });
    model.call(rt.randn([1, 10])).mul(1000).sum().backward();
    const total = Math.hypot(...model.parameters().map((p) => p.grad!.norm().item()));
    expect(total).toBeCloseTo(1, 3);
    global.remove();

    model.zeroGrad();
    const byValue = gradientClipHook(model.parameters(), { value: 0.01 });
    model.call(rt.randn([1, 10])).mul(1000).sum().backward();
    for (const p of model.parameters()) expect(p.grad!.abs().amax().item()).toBeLessThanOrEqual(0.01);
    byValue.remove();
    rec.remove();
  });

  it('adds gradient noise and masks gradients with tensor hooks', () => {
    rt.manualSeed(3);
    const model = new SimpleNet();
    const mask = rt.zeros([20, 10]);
    rt.noGrad(() => mask.narrow(0, 0, 5).fill_(1)); // only the first 5 units of fc1 learn
    // Hooks run in registration order: noise first, then the mask.
    const hs = [...model.parameters().map((p) => p.registerHook((g) => g.add(rt.randn(g.shape).mul(1e-4)))), model.fc1.weight.registerHook((g) => g.mul(mask))];
    model.call(rt.randn([4, 10])).sum().backward();
    const g = model.fc1.weight.grad!.tolist() as number[][];
    g.slice(5).forEach((row) => row.forEach((v) => expect(Math.abs(v)).toBe(0)));
    expect(g.slice(0, 5).flat().some((v) => v !== 0)).toBe(true);
    hs.forEach((h) => h.remove());
  });

  it('global module hooks name every module by its path', () => {
    const model = new nn.Sequential(new SimpleNet(), new nn.ReLU());
    const seen: string[] = [];
    const grads: string[] = [];
    const f = registerModuleForwardHook((_m, _a, _o, path) => void seen.push(path));
    const b = registerModuleFullBackwardHook((_m, _gi, _go, path) => void grads.push(path));
    model.call(rt.randn([2, 10], { requiresGrad: true })).sum().backward();
    f.remove();
    b.remove();
    expect(seen).toEqual(['0.fc1', '0.fc2', '0.fc3', '0', '1', '']);
    expect(grads.sort()).toEqual(['', '0', '0.fc1', '0.fc2', '0.fc3', '1']);
  });
});

describe('saved-tensor presets', () => {
  it('saveOnCpu keeps gradients exact; saveAsFloat16 gives float32 gradients within float16 accuracy', () => {
    const x = rt.randn([4, 3], { requiresGrad: true });
    const plain = x.tanh().exp().sum();
    plain.backward();
    const want = x.grad!.tolist();
    x.grad = null;
    saveOnCpu(() => x.tanh().exp().sum(), { runtime: rt }).backward();
    expect(x.grad!.tolist()).toEqual(want);
    x.grad = null;
    const hasHalf = rt.backends.all().some((b) => (b.dtypes as readonly string[]).includes('float16'));
    if (!hasHalf) {
      expect(() => saveAsFloat16(() => x.exp(), { runtime: rt })).toThrow(NablaError);
      expect(() => saveAsFloat16(() => x.exp(), { runtime: rt })).toThrow(/needs a backend with the 'float16' dtype/);
      return;
    }
    saveAsFloat16(() => x.tanh().exp().sum(), { runtime: rt }).backward();
    expect(x.grad!.dtype).toBe('float32');
    (x.grad!.tolist() as number[][]).flat().forEach((v, i) => expect(v).toBeCloseTo((want as number[][]).flat()[i]!, 2));
  });
});
