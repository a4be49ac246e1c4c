/** The runtime the benchmarks use: the CPU backend always, WebGPU when it can start here. */
import { createRuntime, type Runtime, type Tensor } from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import { activations } from '@nabla/activations';

export interface Devices {
  rt: Runtime;
  devices: string[];
  notes: string[];
}

export async function setup(): Promise<Devices> {
  const rt = await createRuntime({ plugins: [cpuBackend(), activations()] });
  const devices = ['cpu'];
  const notes = [`cpu: ${rt.backend('cpu').describe()}`];
  if (process.env.NABLA_BENCH_DEVICES && !process.env.NABLA_BENCH_DEVICES.split(',').includes('webgpu')) {
    return { rt, devices, notes };
  }
  try {
    const mod = (await import('@nabla/backend-webgpu' as string)) as { webgpuBackend: () => Parameters<Runtime['use']>[0] };
    await rt.use(mod.webgpuBackend());
    devices.push('webgpu');
    notes.push(`webgpu: ${rt.backend('webgpu').describe()}`);
  } catch (e) {
    notes.push(`webgpu: not measured (${(e as Error).message.split('\n')[0]})`);
  }
  return { rt, devices, notes };
}

/** Waits for queued device work, so GPU timings include the kernels and not just their launch. */
export async function settle(rt: Runtime, device: string, t?: Tensor): Promise<void> {
  if (device === 'cpu') return;
  if (t) await t.data();
  else await rt.synchronize(device);
}

/**
 * Bytes the kernels of `fn` move, counted from op-dispatch events: each kernel reads its inputs and
 * writes one output the size of its largest input (exact for elementwise ops, an upper bound for
 * reductions).
 */
export function bytesMoved(rt: Runtime, fn: () => void, bytesPerElement = 4): number {
  let bytes = 0;
  const listen = (e: { shapes: readonly (readonly number[])[] }): void => {
    let max = 0;
    for (const s of e.shapes) {
      const n = s.reduce((a, b) => a * b, 1);
      bytes += n * bytesPerElement;
      if (n > max) max = n;
    }
    bytes += max * bytesPerElement;
  };
  rt.events.on('op:dispatch', listen);
  try {
    fn();
  } finally {
    rt.events.off('op:dispatch', listen);
  }
  return bytes;
}
