import { autograd, createRuntime, withDispatchHook } from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import { it } from 'vitest';
it('hvp count', async () => {
  const rt = await createRuntime({ plugins: [cpuBackend()] });
  const ps = [rt.randn([256, 256]).requiresGrad_(), rt.zeros([256], { requiresGrad: true }), rt.randn([256, 10]).requiresGrad_(), rt.zeros([10], { requiresGrad: true })];
  const hx = rt.randn([64, 256]);
  const ht = rt.randn([64, 10]);
  const calls: string[] = [];
  withDispatchHook(rt, (c) => void calls.push(`${c.op}:${c.kernel} [${c.writes.map((t) => t.shape.join('x')).join(',')}]`), () =>
    rt.tidy(() => {
      const loss = hx.matmul(ps[0]!).add(ps[1]!).tanh().matmul(ps[2]!).add(ps[3]!).sub(ht).square().mean();
      const gs = autograd.grad(loss, ps, { createGraph: true });
      let dot = gs[0]!.sum();
      for (let i = 1; i < gs.length; i++) dot = dot.add(gs[i]!.sum());
      return autograd.grad(dot, ps);
    }),
  );
  const big = calls.filter((c) => /\[(64x256|256x256)/.test(c));
  console.log(`${calls.length} launches, ${big.length} over 64x256 or 256x256:\n` + big.join('\n'));
});
