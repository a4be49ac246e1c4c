/**
 * The spiral example on the WebGL device (`@nabla/backend-webgl`, gpu.js on headless-gl: run under
 * `xvfb-run -a` without a display): the same example and data as on the CPU and WebGPU, >= 95%
 * training accuracy. Without a GL context it skips and says why — except in CI (`CI=true`) or with
 * `NABLA_REQUIRE_WEBGL=1`, where the webgl backend's own policy applies: no context is a failure.
 */
import { createRuntime, type Plugin } from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import { describe, expect, it } from 'vitest';
import { trainSpiral } from '../examples/spiral.js';

interface WebglModule {
  webglBackend(options?: object): Plugin;
  backendInfo(rt?: unknown): { kernelClass: string; renderer: string };
}

const REQUIRED = process.env['NABLA_REQUIRE_WEBGL'] === '1' || process.env['CI'] === 'true' || process.env['CI'] === '1';

describe('the spiral example on WebGL', () => {
  it('reaches >= 95% training accuracy on a GL kernel, or says why it skipped', async (ctx) => {
    let mod: WebglModule;
    let rt;
    try {
      const name = '@nabla/backend-webgl';
      mod = (await import(/* @vite-ignore */ name)) as WebglModule;
      rt = await createRuntime({ plugins: [cpuBackend(), mod.webglBackend()] });
    } catch (e) {
      const reason = (e as Error).message.split('\n')[0];
      if (REQUIRED) throw new Error(`[spiral] webgl is required here (CI / NABLA_REQUIRE_WEBGL=1) but could not start: ${reason}`);
      console.log(`[spiral] webgl SKIPPED: ${reason}`);
      ctx.skip();
      return;
    }
    try {
      // ~150 gpu.js kernels a step on a software rasterizer: few steps (30 at lr 0.03 give ~99% on the CPU too).
      const r = await trainSpiral({ runtime: rt, device: 'webgl', steps: 30, lr: 0.03 });
      const info = mod.backendInfo(rt);
      console.log(`[spiral] webgl (gpu.js ${info.kernelClass} on ${info.renderer}): ${(r.accuracy * 100).toFixed(1)}% after ${r.steps} steps, loss ${r.firstLoss.toFixed(3)} → ${r.lastLoss.toFixed(4)}, ${r.ms.toFixed(0)} ms`);
      expect(['HeadlessGLKernel', 'WebGL2Kernel', 'WebGLKernel']).toContain(info.kernelClass);
      expect(r.accuracy).toBeGreaterThanOrEqual(0.95);
      expect(r.lastLoss).toBeLessThan(r.firstLoss / 10);
    } finally {
      await rt.dispose();
    }
  }, 600_000);
});
