/**
 * Shared test setup: a runtime with the CPU backend beside webgl, so results can be compared.
 *
 * Without a GL context (no native `gl` build, no X server) the GL suites skip and say why — except
 * in CI (`CI=true` or `NABLA_REQUIRE_WEBGL=1`), where a missing context fails the run: there the
 * suites must prove the GL path ran.
 */
import { createRuntime, type Runtime } from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import { webglBackend } from '../plugin.js';
import type { WebGLBackendOptions } from '../backend.js';
import { WebGLBackend } from '../backend.js';

export type Probe = { ok: true; description: string } | { ok: false; reason: string };

export const REQUIRED = process.env['NABLA_REQUIRE_WEBGL'] === '1' || process.env['CI'] === 'true' || process.env['CI'] === '1';

let probed: Promise<Probe> | null = null;

/** Whether a webgl backend starts here (tried once per test file); logs the renderer or the reason. */
export function probe(): Promise<Probe> {
  probed ??= (async (): Promise<Probe> => {
    try {
      const b = await WebGLBackend.create();
      const i = b.backendInfo();
      b.dispose();
      const description = `renderer ${i.renderer} (${i.vendor}), ${i.glVersion}; gpu.js ${i.kernelClass} (mode ${i.mode})`;
      console.log(`[backend-webgl tests] ${description}`);
      return { ok: true, description };
    } catch (e) {
      const reason = (e as Error).message;
      if (REQUIRED) throw new Error(`[backend-webgl tests] a GL context is required here (CI / NABLA_REQUIRE_WEBGL=1) but none could be made: ${reason}`);
      console.log(`[backend-webgl tests] SKIPPED: no GL context for the webgl device (${reason})`);
      return { ok: false, reason };
    }
  })();
  return probed;
}

/** A runtime with cpu and webgl installed. */
export function glRuntime(options: WebGLBackendOptions = {}): Promise<Runtime> {
  return createRuntime({ plugins: [cpuBackend(), webglBackend(options)] });
}
