/**
 * The backend author's testkit, run on this repository's own WebGPU device: every case of
 * `@nabla/backend-testkit` (float32; WGSL has no float64) against the CPU backend, with its leak
 * check. The same suite a third party runs, so it cannot rot.
 */
import { checkBackend } from '@nabla/backend-testkit';
import { describe, expect, it } from 'vitest';
import { gpuRuntime, probe } from '../src/test-utils/setup.js';

const adapter = await probe();

describe.skipIf(!adapter.ok)('@nabla/backend-testkit on webgpu', () => {
  it('passes every case in float32', async () => {
    const rt = (await gpuRuntime())!;
    try {
      const report = await checkBackend({ device: 'webgpu', runtime: rt });
      console.log(`[backend-webgpu testkit] ${report.summary()}`);
      expect(report.dtypes).toEqual(['float32']);
      expect(report.failures).toEqual([]);
    } finally {
      await rt.dispose();
    }
  }, 600_000);
});
