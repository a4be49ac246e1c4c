/**
 * The runtime the benchmarks use: the CPU backend always (it hosts the others' uploads), WebGL and
 * WebGPU when they start here. `--device` (or NABLA_BENCH_DEVICES) picks which of them are measured;
 * a device that does not start is listed with the reason, for the report's conditions.
 */
import { createRuntime, type Runtime, type Tensor } from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import { activations } from '@nabla/activations';

/** One place to measure: a device of a runtime, labelled with the adapter behind it. */
export interface Target {
  rt: Runtime;
  device: string;
  /** "cpu", "webgpu (swiftshader)", ... */
  label: string;
}

export interface Devices {
  rt: Runtime;
  /** Devices of `rt` (cpu, and webgpu on the first adapter found). */
  devices: string[];
  /** Every device and every WebGPU adapter that starts here (extra adapters get their own runtime). */
  targets: Target[];
  notes: string[];
  /** Devices that were wanted but did not start, each with its reason. */
  missing: string[];
}

/** The devices the bench knows; `--device` takes a comma-separated subset. */
export const DEVICE_NAMES = ['cpu', 'webgl', 'webgpu'] as const;

type WebGpuModule = {
  webgpuBackend: (options?: { dawnFlags?: string[]; featureLevel?: 'core' | 'compatibility' }) => Parameters<Runtime['use']>[0];
};

/** The adapters to try in Node: the one the backend finds by itself, then Dawn's OpenGL on Mesa. */
const EXTRA_ADAPTERS = [{ name: 'opengl', options: { dawnFlags: ['backend=opengl'], featureLevel: 'compatibility' as const } }];

/** Starts the `wanted` devices (default: NABLA_BENCH_DEVICES, else all of them). */
export async function setup(wanted: readonly string[] | null = process.env.NABLA_BENCH_DEVICES ? process.env.NABLA_BENCH_DEVICES.split(',') : null): Promise<Devices> {
  const want = (d: string): boolean => wanted === null || wanted.includes(d);
  const rt = await createRuntime({ plugins: [cpuBackend(), activations()] });
  const devices: string[] = [];
  const targets: Target[] = [];
  const notes: string[] = [];
  const missing: string[] = [];
  if (want('cpu')) {
    devices.push('cpu');
    targets.push({ rt, device: 'cpu', label: 'cpu' });
    notes.push(`cpu: ${rt.backend('cpu').describe()}`);
  }
  if (want('webgl')) await addWebgl(rt, devices, targets, notes, missing);
  if (!want('webgpu')) return { rt, devices, targets, notes, missing };
  let mod: WebGpuModule;
  try {
    mod = (await import('@nabla/backend-webgpu' as string)) as WebGpuModule;
    await rt.use(mod.webgpuBackend());
    devices.push('webgpu');
    targets.push({ rt, device: 'webgpu', label: `webgpu (${adapterName(rt)})` });
    notes.push(`webgpu: ${rt.backend('webgpu').describe()}`);
  } catch (e) {
    missing.push(`webgpu: not measured (${(e as Error).message.split('\n')[0]})`);
    return { rt, devices, targets, notes, missing };
  }
  for (const extra of EXTRA_ADAPTERS) {
    if (targets.some((t) => t.label.includes(extra.name))) continue;
    // Dawn's OpenGL backend on Mesa needs a platform without a display.
    process.env.EGL_PLATFORM ??= 'surfaceless';
    try {
      const other = await createRuntime({ plugins: [mod.webgpuBackend(extra.options)] });
      targets.push({ rt: other, device: 'webgpu', label: `webgpu (${adapterName(other)})` });
      notes.push(`webgpu, second adapter: ${other.backend('webgpu').describe()}`);
    } catch (e) {
      missing.push(`webgpu, ${extra.name} adapter: not measured (${(e as Error).message.split('\n')[0]})`);
    }
  }
  return { rt, devices, targets, notes, missing };
}

type WebglModule = {
  webglBackend: () => Parameters<Runtime['use']>[0];
  backendInfo: (rt: Runtime) => { renderer: string; kernelClass: string };
};

/**
 * The webgl device (gpu.js on headless-gl; needs the optional native `gl` build and an X server,
 * e.g. `xvfb-run -a npm run bench`). Skipped with the reason when it cannot start.
 */
async function addWebgl(rt: Runtime, devices: string[], targets: Target[], notes: string[], missing: string[]): Promise<void> {
  try {
    const mod = (await import('@nabla/backend-webgl' as string)) as WebglModule;
    await rt.use(mod.webglBackend());
    devices.push('webgl');
    const info = mod.backendInfo(rt);
    targets.push({ rt, device: 'webgl', label: `webgl (${rendererName(info.renderer)})` });
    notes.push(`webgl: ${rt.backend('webgl').describe()}`);
  } catch (e) {
    const why = (e as Error).message.split('\n')[0]!;
    const hint = process.env.DISPLAY ? '' : ' — no DISPLAY: run under an X server, e.g. `xvfb-run -a npm run bench`';
    missing.push(`webgl: not measured (${why})${hint}`);
  }
}

/** "llvmpipe", "swiftshader", ...: a GL renderer's short name ("ANGLE over swrast_dri.so = Mesa llvmpipe"). */
function rendererName(renderer: string): string {
  const known = /llvmpipe|swiftshader|softpipe|lavapipe/i.exec(renderer);
  return known ? known[0].toLowerCase() : renderer.split(' (')[0]!.slice(0, 24);
}

/** "swiftshader", "llvmpipe", ...: the adapter's short name from the backend's description. */
function adapterName(rt: Runtime): string {
  const d = rt.backend('webgpu').describe();
  if (/swiftshader/i.test(d)) return 'swiftshader';
  if (/llvmpipe/i.test(d)) return 'llvmpipe, opengl';
  return d.replace(/^webgpu: /, '').split(' (')[0]!;
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
