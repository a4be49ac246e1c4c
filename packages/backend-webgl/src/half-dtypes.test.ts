/**
 * float16/bfloat16 on the webgl device: it holds neither (WebGL textures here are float32), so every
 * way of putting a 16-bit tensor there is refused with a NablaError naming the device and the dtype,
 * before anything is allocated; float32 copies of 16-bit CPU tensors work.
 */
import { NablaError, type Runtime } from '@nabla/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { glRuntime, probe } from './test-utils/setup.js';

const gl = await probe();

describe.skipIf(!gl.ok)('16-bit floats on webgl', () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = await glRuntime();
  });
  afterAll(async () => {
    await rt.dispose();
  });

  const refused = (fn: () => unknown, dtype: string): void => {
    let err: unknown = null;
    try {
      fn();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NablaError);
    expect((err as Error).message).toContain(`device 'webgl' does not support dtype ${dtype}`);
  };

  for (const dtype of ['float16', 'bfloat16'] as const) {
    it(`refuses ${dtype} on creation, transfer and cast`, () => {
      const f32 = rt.tensor([1, 2], { device: 'webgl' });
      const h = rt.tensor([1, 2], { dtype });
      const before = rt.memory().byDevice.webgl?.numTensors ?? 0;
      refused(() => rt.tensor([1, 2], { dtype, device: 'webgl' }), dtype);
      refused(() => rt.zeros([3], { dtype, device: 'webgl' }), dtype);
      refused(() => h.to('webgl'), dtype);
      refused(() => f32.to(dtype), dtype);
      // Nothing was left on the device by the refused calls.
      expect(rt.memory().byDevice.webgl?.numTensors ?? 0).toBe(before);
      f32.dispose();
      h.dispose();
    });
  }

  it('takes a float32 copy of a 16-bit CPU tensor', async () => {
    const h = rt.tensor([1.5, -2.25, 1e-3], { dtype: 'float16' });
    const g = h.float().to('webgl');
    expect(Array.from(await g.data())).toEqual(Array.from(h.dataSync()));
  });
});
