/**
 * `tensor(typedArray)` copies the values once, into the storage (the backend's `write` copies, as
 * its contract says), not first into a fresh host array as well: the tensor never aliases the
 * caller's array, small or large (a large one lands in the CPU backend's wasm heap).
 */
import { createRuntime } from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import { describe, expect, it } from 'vitest';

describe('tensor() from a TypedArray', () => {
  for (const n of [3, 65536]) {
    it(`copies ${n} values: later writes to the source leave the tensor as it was`, async () => {
      const rt = await createRuntime({ plugins: [cpuBackend()] });
      const src = Float32Array.from({ length: n }, (_, i) => i * 0.5);
      const t = rt.tensor(src);
      src.fill(-1);
      const got = t.dataSync() as Float32Array;
      expect(got.length).toBe(n);
      expect(got[0]).toBe(0);
      expect(got[n - 1]).toBe((n - 1) * 0.5);
      const mutated = t.mul(2);
      expect(src[1]).toBe(-1);
      expect((mutated.dataSync() as Float32Array)[1]).toBe(1);
      // A dtype conversion copies too.
      const i32 = rt.tensor(Int32Array.from([1, 2, 3]), { dtype: 'float32' });
      expect(Array.from(i32.dataSync() as Float32Array)).toEqual([1, 2, 3]);
      await rt.dispose();
    });
  }
});
