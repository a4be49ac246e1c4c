/**
 * The tutorials' checkpointing examples (/work/shared/seeds: "Autograd Deep Dive — Solutions", the
 * autograd guide and the autograd chapter), ported: the hand-written CheckpointFunction,
 * `checkpoint` around a function and around a block, the memory comparison of a 20-layer model
 * checkpointed layer by layer, and the same model through `checkpointSequential`.
 */
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { Function, autograd, type FunctionCtx, type Runtime, type Tensor } from '@nabla/core';
import * as nn from '@nabla/nn';
import { checkpoint, checkpointSequential, describePlan, sequentialPlan } from '../src/index.js';
import { cpuRuntime, expectSame } from './helpers.js';
import { measureStep } from './model.js';

let rt: Runtime;
beforeAll(async () => {
  rt = await cpuRuntime();
});

/** The tutorial's challenge solution: a reentrant checkpoint written as a custom Function. */
class CheckpointFunction extends Function {
  static override forward(ctx: FunctionCtx, runFunction: (...a: Tensor[]) => Tensor, preserveRngState: boolean, ...args: Tensor[]): Tensor {
    ctx.runFunction = runFunction;
    ctx.preserveRngState = preserveRngState;
    if (preserveRngState) ctx.rngState = args[0]!.rt.getRngState();
    ctx.saveForBackward(...args);
    return runFunction(...args); // Function.apply runs forward with grad off
  }

  static override backward(ctx: FunctionCtx, ...gradOutputs: Tensor[]): (Tensor | null)[] {
    const inputs = ctx.savedTensors;
    const rt = inputs[0]!.rt;
    if (ctx.preserveRngState) rt.setRngState(ctx.rngState as number[]);
    const detached = inputs.map((x) => {
      const d = x.detach();
      d.requiresGrad = x.requiresGrad;
      return d;
    });
    const outputs = rt.enableGrad(() => (ctx.runFunction as (...a: Tensor[]) => Tensor)(...detached));
    autograd.backward([outputs], { gradTensors: gradOutputs });
    return [null, null, ...detached.map((d) => d.grad)];
  }
}

const tutorialCheckpoint = (fn: (x: Tensor) => Tensor, x: Tensor, preserveRngState = true): Tensor =>
  CheckpointFunction.apply(fn, preserveRngState, x) as Tensor;

function expensiveComputation(x: Tensor): Tensor {
  let h = x;
  for (let i = 0; i < 5; i++) h = h.relu().sin().cos();
  return h;
}

describe('tutorial: gradient checkpointing', () => {
  it('the custom CheckpointFunction and checkpoint() give the unchecked gradients', () => {
    rt.manualSeed(0);
    const x1 = rt.randn([100, 100], { dtype: 'float64', requiresGrad: true });
    const y1 = expensiveComputation(x1);
    y1.sum().backward();
    const grad1 = x1.grad!;

    const x2 = x1.detach().clone();
    x2.requiresGrad = true;
    const y2 = tutorialCheckpoint(expensiveComputation, x2);
    y2.sum().backward();

    const x3 = x1.detach().clone();
    x3.requiresGrad = true;
    const y3 = checkpoint(expensiveComputation, x3);
    y3.sum().backward();

    expectSame(y1, y2);
    expectSame(y1, y3);
    expectSame(grad1, x2.grad); // "Gradients match: True"
    expectSame(grad1, x3.grad);
    const maxDiff = grad1.sub(x3.grad!).abs().max().item();
    console.log(`[tutorial] Outputs match: true, Gradients match: true, Max gradient difference: ${maxDiff.toExponential(2)}`);
    expect(maxDiff).toBe(0);
  });

  it("the guide's checkpoint(expensive_function, x) with x ** 2 (and the warning that it saves nothing)", () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const expensiveFunction = (x: Tensor): Tensor => x.pow(2);
      const x = rt.randn([1000, 1000], { requiresGrad: true });
      const y = checkpoint(expensiveFunction, x);
      y.sum().backward();
      expectSame(x.grad, x.detach().mul(2));
      expect(warn).toHaveBeenCalledWith(expect.stringMatching(/saves nothing/));
    } finally {
      warn.mockRestore();
    }
  });

  it("the chapter's checkpoint(custom_forward, x) around a block: the same gradients, less memory kept", () => {
    rt.manualSeed(3);
    const fc1 = new nn.Linear(64, 256, { runtime: rt, dtype: 'float64' } as never);
    const fc2 = new nn.Linear(256, 64, { runtime: rt, dtype: 'float64' } as never);
    const complexOperation = (x: Tensor): Tensor => fc2.call(fc1.call(x).tanh().mul(x.sum(1, true).sigmoid())).relu();
    const customForward = (x: Tensor): Tensor => complexOperation(x);
    const x1 = rt.randn([32, 64], { dtype: 'float64', requiresGrad: true });
    const plain = measureStep(rt, new nn.Sequential(fc1, fc2), () => customForward(x1));
    const want = [...plain.grads];
    const ck = measureStep(rt, new nn.Sequential(fc1, fc2), () => checkpoint(customForward, x1));
    ck.grads.forEach((g, i) => expectSame(g, want[i]));
    expect(ck.peak).toBeLessThan(plain.peak);
  });

  it('memory comparison: 20 × Linear(256,256) checkpointed layer by layer, batch 64', () => {
    rt.manualSeed(1);
    const layers = Array.from({ length: 20 }, () => new nn.Linear(256, 256, { runtime: rt }));
    const model = new nn.Sequential(...layers);
    const forward = (x: Tensor, useCheckpoint: boolean): Tensor => {
      let h = x;
      for (const layer of layers) {
        h = useCheckpoint ? checkpoint((y: Tensor) => layer.call(y).relu(), h) : layer.call(h).relu();
      }
      return h;
    };
    const x = rt.randn([64, 256], { requiresGrad: true });
    const plain = measureStep(rt, model, () => forward(x, false));
    const ck = measureStep(rt, model, () => forward(x, true));
    const mb = (b: number): string => (b / 1e6).toFixed(2);
    console.log(
      `[tutorial] Memory without checkpointing: ${mb(plain.peak)} MB, with checkpointing: ${mb(ck.peak)} MB, ` +
        `Memory saved: ${((1 - ck.peak / plain.peak) * 100).toFixed(1)}%`,
    );
    expect(ck.peak).toBeLessThan(plain.peak * 0.75);
    ck.grads.forEach((g, i) => expectSame(g, plain.grads[i]));
  });

  it('the same 20-layer model through checkpointSequential: √n segments and auto keep at most half the memory', () => {
    rt.manualSeed(1);
    const layers = Array.from({ length: 20 }, () => new nn.Linear(256, 256, { runtime: rt }));
    const model = new nn.Sequential(...layers.flatMap((l) => [l, new nn.ReLU()]));
    const x = rt.randn([64, 256], { requiresGrad: true });
    const plain = measureStep(rt, model, () => model.call(x) as Tensor);
    const sqrtN = measureStep(rt, model, () => checkpointSequential(model, Math.round(Math.sqrt(40)), x));
    // 'auto' times each module once while profiling; identical layers share their median time and
    // plans within COST_NOISE of the least recompute go to the lower estimated peak, so the plan
    // (and the peak measured here) does not change with the machine's load (costs.test.ts).
    const auto = measureStep(rt, model, () => checkpointSequential(model, 'auto', x));
    const pct = (p: number): string => ((100 * p) / plain.peak).toFixed(1);
    const plan = describePlan(sequentialPlan(model, 'auto', x).segments);
    console.log(`[tutorial] checkpointSequential: ${Math.round(Math.sqrt(40))} segments ${pct(sqrtN.peak)}% of the unchecked peak, auto ${pct(auto.peak)}% (${plan})`);
    expect(sqrtN.peak).toBeLessThanOrEqual(plain.peak * 0.5);
    expect(auto.peak).toBeLessThanOrEqual(plain.peak * 0.5);
    for (const m of [sqrtN, auto]) m.grads.forEach((g, i) => expectSame(g, plain.grads[i]));
  });
});
