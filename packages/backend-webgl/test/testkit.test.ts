/**
 * The backend author's testkit on this device: every case of `@nabla/backend-testkit` in float32
 * (WebGL has no float64) against the CPU backend, with its leak check — the suite a third party
 * runs against their own backend, run here on one written only against core's public contract.
 */
import { checkBackend } from '@nabla/backend-testkit';
import { describe, expect, it } from 'vitest';
import { backendInfo } from '../src/plugin.js';
import { glRuntime, probe } from '../src/test-utils/setup.js';

const gl = await probe();

describe.skipIf(!gl.ok)('@nabla/backend-testkit on webgl', () => {
  it('passes every case in float32, on a GL kernel', async () => {
    const rt = await glRuntime();
    try {
      const report = await checkBackend({ device: 'webgl', runtime: rt });
      console.log(`[backend-webgl testkit] ${report.summary()}`);
      expect(report.dtypes).toEqual(['float32']);
      expect(report.failures).toEqual([]);
      expect(report.passed.length).toBeGreaterThan(50);
      expect(['HeadlessGLKernel', 'WebGL2Kernel', 'WebGLKernel']).toContain(backendInfo(rt).kernelClass);
    } finally {
      await rt.dispose();
    }
  }, 900_000);
});
