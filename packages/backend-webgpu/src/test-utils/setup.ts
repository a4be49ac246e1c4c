/**
 * Shared test setup: find an adapter (software ones included), and make runtimes with the CPU
 * backend beside WebGPU so results can be compared. When no adapter exists the suites skip and
 * say why.
 */
import { createRuntime, type Runtime } from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import { probeNodeAdapter, type ProbeResult } from '../probe.js';
import { webgpuBackend } from '../plugin.js';

let probed: Promise<ProbeResult> | null = null;

/**
 * NABLA_REQUIRE_F16=1 (CI's run on lavapipe): float16 must compute in WGSL's native f16, so the
 * runtimes below ask for `float16: 'native'` and fail on an adapter without `shader-f16`, instead of
 * falling back to the packed path.
 */
export const REQUIRE_F16 = process.env.NABLA_REQUIRE_F16 === '1';

export function probe(): Promise<ProbeResult> {
  probed ??= probeNodeAdapter().then((r) => {
    if (r.ok) console.log(`[backend-webgpu tests] adapter: ${r.description} (choice: ${r.choice})`);
    else console.log(`[backend-webgpu tests] SKIPPED: no WebGPU adapter (${r.reason})`);
    return r;
  });
  return probed;
}

/** A runtime with cpu and webgpu installed, or null when there is no adapter. */
export async function gpuRuntime(extra: Parameters<typeof webgpuBackend>[0] = {}): Promise<Runtime | null> {
  const p = await probe();
  if (!p.ok) return null;
  const f16: Parameters<typeof webgpuBackend>[0] = REQUIRE_F16 ? { float16: 'native' } : {};
  return createRuntime({ plugins: [cpuBackend(), webgpuBackend({ ...p.options, ...f16, ...extra })] });
}
