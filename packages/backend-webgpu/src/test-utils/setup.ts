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
  return createRuntime({ plugins: [cpuBackend(), webgpuBackend({ ...p.options, ...extra })] });
}
