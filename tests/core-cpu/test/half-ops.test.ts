/**
 * float16/bfloat16 ops on the CPU against PyTorch 1.13 (packages/core/fixtures/half/half-ops.json):
 * elementwise ops, matmul, sum/mean/amax/cumsum, softmax and logSoftmax, and the gradients of a
 * few, each element within one unit in the last place of the 16-bit type. Where PyTorch 1.13 has
 * no CPU kernel for the type the fixture holds float32 results rounded once (its "mode").
 */
import { createRuntime, type Runtime } from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadHalfOps, replayHalfOp } from './helpers/half-ops.js';

const fx = loadHalfOps();

describe.each([
  ['wasm', true],
  ['js', false],
] as const)(`16-bit ops on the CPU (%s kernels) match PyTorch ${fx.torch} within one ulp`, (_label, wasm) => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = await createRuntime({ plugins: [cpuBackend({ wasm })] });
  });
  afterAll(async () => {
    await rt.dispose();
  });
  it.each(fx.cases.map((c) => [`${c.dtype} ${c.name} (${c.mode}${c.grads ? ', with gradients' : ''})`, c] as const))('%s', async (_n, c) => {
    expect(await replayHalfOp(rt, c, 'cpu')).toEqual([]);
  });
});
