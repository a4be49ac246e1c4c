/**
 * Every op of core and of the activations plugin, forward and backward, on strided inputs
 * (transposed, sliced, broadcast), on webgl against the CPU backend from the same values.
 */
import { autograd, cat, createRuntime, stack, where, type Runtime, type Tensor } from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import * as act from '@nabla/activations';
import { randoms } from '@nabla/backend-testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webglBackend } from './plugin.js';
import { probe } from './test-utils/setup.js';

const gl = await probe();

type Case = [name: string, fn: (x: Tensor, y: Tensor) => Tensor, tol?: number];

const CASES: Case[] = [
  ['add', (x, y) => x.add(y)], ['sub', (x, y) => x.sub(y)], ['mul', (x, y) => x.mul(y)], ['div', (x, y) => x.div(y.abs().add(0.5))],
  ['pow', (x, y) => x.abs().add(0.1).pow(y)], ['pow scalar', (x) => x.pow(3)], ['neg', (x) => x.neg()], ['abs', (x) => x.abs()],
  ['sqrt', (x) => x.abs().add(0.1).sqrt()], ['rsqrt', (x) => x.abs().add(0.1).rsqrt()], ['exp', (x) => x.exp()],
  ['log', (x) => x.abs().add(0.1).log()], ['log1p', (x) => x.abs().log1p()], ['expm1', (x) => x.expm1()],
  ['sin', (x) => x.sin()], ['cos', (x) => x.cos()], ['tan', (x) => x.mul(0.5).tan()], ['tanh', (x) => x.tanh()],
  ['sigmoid', (x) => x.sigmoid()], ['relu', (x) => x.relu()], ['sign', (x) => x.sign().mul(x)], ['reciprocal', (x) => x.abs().add(0.5).reciprocal()],
  ['square', (x) => x.square()], ['clamp', (x) => x.clamp(-0.5, 0.7)], ['maximum', (x, y) => x.maximum(y)], ['minimum', (x, y) => x.minimum(y)],
  ['round floor ceil', (x) => x.mul(3).round().add(x.floor()).add(x.ceil()).add(x)],
  ['where', (x, y) => globalThisWhere(x.gt(y), x, y.mul(2))], ['maskedFill', (x, y) => x.maskedFill(y.lt(0), 0.25)],
  ['sum', (x) => x.sum()], ['sum dim', (x) => x.sum(0)], ['sum dims keepdim', (x) => x.sum([0, 1], true)], ['mean', (x) => x.mean(1)],
  ['prod', (x) => x.mul(0.5).add(1).prod(1)], ['amax', (x) => x.amax(0)], ['amin', (x) => x.amin(1)],
  ['max dim', (x) => x.max(1, false).values], ['logsumexp', (x) => x.logsumexp(1)], ['var', (x) => x.var(0)], ['std', (x) => x.std(1)],
  ['norm', (x) => x.norm(2, 1)], ['matmul', (x, y) => x.matmul(y.t())], ['mm', (x, y) => x.t().mm(y)],
  ['bmm', (x, y) => x.reshape(1, 5, 4).expand(3, 5, 4).bmm(y.t().reshape(1, 4, 5).expand(3, 4, 5))],
  ['outer', (x, y) => x.select(0, 1).outer(y.select(1, 2))], ['dot', (x, y) => x.select(1, 0).dot(y.select(1, 3))],
  ['softmax', (x) => x.softmax(1)], ['logSoftmax', (x) => x.logSoftmax(0)],
  ['reshape flatten squeeze unsqueeze', (x) => x.reshape(20).unsqueeze(0).flatten().mul(x.reshape(4, 5).flatten())],
  ['permute expand', (x) => x.unsqueeze(2).expand(5, 4, 3).permute(2, 0, 1).mul(2)],
  ['cat stack narrow', (x, y) => globalCat([x.narrow(0, 1, 3), y.narrow(0, 0, 2)]).mul(globalStack([x.narrow(0, 0, 5), y], 0).sum(0).narrow(0, 0, 5))],
  ['indexSelect gather', (x) => x.indexSelect(1, intTensor(x, [3, 0, 0, 2])).add(x.gather(1, intTensor(x, [[0, 1], [3, 3], [2, 1], [0, 0], [1, 2]])).sum())],
  ['silu', (x) => act.silu(x)], ['mish', (x) => act.mish(x)], ['hardswish', (x) => act.hardswish(x)], ['hardsigmoid', (x) => act.hardsigmoid(x)],
  ['gelu', (x) => act.gelu(x)], ['gelu tanh', (x) => act.gelu(x, { approximate: 'tanh' })], ['elu', (x) => act.elu(x, 0.7)], ['selu', (x) => act.selu(x)],
  ['celu', (x) => act.celu(x, 1.5)], ['softplus', (x) => act.softplus(x, 2, 10)], ['leakyRelu', (x) => act.leakyRelu(x, 0.1)], ['relu6', (x) => act.relu6(x.mul(5))],
  ['hardtanh', (x) => act.hardtanh(x, -0.5, 0.5)], ['softsign', (x) => act.softsign(x)], ['logsigmoid', (x) => act.logsigmoid(x)], ['tanhshrink', (x) => act.tanhshrink(x)],
];

let rt: Runtime;
function globalThisWhere(c: Tensor, a: Tensor, b: Tensor): Tensor {
  return where(c, a, b);
}
function globalCat(ts: Tensor[]): Tensor {
  return cat(ts, 0);
}
function globalStack(ts: Tensor[], dim: number): Tensor {
  return stack(ts, dim);
}
function intTensor(like: Tensor, v: number[] | number[][]): Tensor {
  return rt.tensor(v, { dtype: 'int32', device: like.device });
}

describe.skipIf(!gl.ok)('every op on webgl, forward and backward, on strided inputs', () => {
  beforeAll(async () => {
    rt = await createRuntime({ plugins: [cpuBackend(), act.activations(), webglBackend()] });
  });
  afterAll(async () => {
    await rt?.dispose();
  });

  for (const [name, fn, tol = 2e-4] of CASES) {
    it(name, () => {
      const a = Float32Array.from(randoms(20, 11, -1.5, 1.5));
      const b = Float32Array.from(randoms(20, 12, -1.5, 1.5));
      const out: Record<string, { y: number[]; gx: number[]; gy: number[] }> = {};
      for (const device of ['cpu', 'webgl']) {
        // x: a transposed [4, 5] (strides [1, 4]); y: a slice of a wider tensor (offset, strides [8, 1]).
        const x = rt.tensor(a, { shape: [4, 5], device }).t().detach().requiresGrad_();
        const wide = rt.tensor(Float32Array.from(randoms(40, 13, -1.5, 1.5)), { shape: [5, 8], device });
        const y = wide.narrow(1, 2, 4).detach().requiresGrad_();
        wide.narrow(1, 2, 4).copy_(rt.tensor(b, { shape: [5, 4], device }));
        const r = fn(x, y);
        const w = rt.tensor(Float32Array.from(randoms(r.numel(), 14, 0.5, 1.5)), { shape: r.shape, device });
        const [gx, gy] = autograd.grad(r.mul(w).sum(), [x, y], { allowUnused: true });
        out[device] = {
          y: Array.from(r.dataSync()),
          gx: gx ? Array.from(gx.dataSync()) : [],
          gy: gy ? Array.from(gy.dataSync()) : [],
        };
        expect(r.device).toBe(device);
      }
      for (const k of ['y', 'gx', 'gy'] as const) {
        const c = out['cpu']![k];
        const g = out['webgl']![k];
        expect(g.length, `${name} ${k} length`).toBe(c.length);
        g.forEach((v, i) => expect(Math.abs(v - c[i]!), `${name} ${k}[${i}]: webgl ${v} vs cpu ${c[i]}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(c[i]!))));
      }
    });
  }
});
