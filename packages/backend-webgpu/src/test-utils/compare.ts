/** Comparing WebGPU results with the CPU backend's, and seeded data for the tests. */
import type { Runtime, Tensor } from '@nabla/core';
import { expect } from 'vitest';
import { mismatches, type Tolerance } from './numbers.js';

export { randoms, type Tolerance } from './numbers.js';

/** Elementwise |got - want| <= atol + rtol·|want|; NaN matches NaN and infinities match exactly. */
export function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: Tolerance = {}, label = ''): void {
  expect(got.length, `${label} length`).toBe(want.length);
  expect(mismatches(got, want, tol).first, `${label}: mismatches (rtol ${tol.rtol ?? 1e-6}, atol ${tol.atol ?? 1e-6})`).toEqual([]);
}

/** The same values as a tensor on each device. */
export function pair(rt: Runtime, values: ArrayLike<number>, shape: readonly number[], dtype: 'float32' | 'int32' | 'bool' = 'float32'): [Tensor, Tensor] {
  const data = dtype === 'float32' ? Float32Array.from(values) : dtype === 'int32' ? Int32Array.from(values) : Uint8Array.from(values);
  return [rt.tensor(data, { device: 'cpu', shape }), rt.tensor(data, { device: 'webgpu', shape })];
}

/** Runs `f` on the cpu and the webgpu tensor of each pair and compares the results. */
export async function sameOnBoth(
  pairs: readonly (readonly [Tensor, Tensor])[],
  f: (...xs: Tensor[]) => Tensor,
  tol: Tolerance = {},
  label = '',
): Promise<void> {
  const c = f(...pairs.map((p) => p[0]));
  const g = f(...pairs.map((p) => p[1]));
  expect(g.device).toBe('webgpu');
  expect(g.shape, `${label} shape`).toEqual(c.shape);
  expect(g.dtype, `${label} dtype`).toBe(c.dtype);
  expectClose(await g.data(), c.dataSync(), tol, label);
}
