/**
 * The course's runtime: the default Nabla runtime with the CPU backend and the activations, plus
 * whichever GPU backends this browser can run (WebGPU through `navigator.gpu`, WebGL2 through
 * gpu.js). GPU backends are imported lazily, so a browser without them never loads their code.
 */
import * as nabla from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import { activations } from '@nabla/activations';

export type DeviceName = 'cpu' | 'webgpu' | 'webgl';

export interface DeviceStatus {
  readonly device: DeviceName;
  readonly available: boolean;
  /** The backend's own description (adapter, renderer), or why the device is missing. */
  readonly detail: string;
}

let ready: Promise<DeviceStatus[]> | null = null;

async function tryInstall(device: DeviceName, load: () => Promise<nabla.Plugin>): Promise<DeviceStatus> {
  try {
    await nabla.use(await load());
    return { device, available: true, detail: nabla.defaultRuntime().backend(device).describe() };
  } catch (e) {
    return { device, available: false, detail: e instanceof Error ? e.message.split('\n')[0]! : String(e) };
  }
}

/** Installs every device this browser has, once; resolves with what each device is (or why not). */
export function setupDevices(): Promise<DeviceStatus[]> {
  ready ??= (async () => {
    await nabla.use(cpuBackend());
    await nabla.use(activations());
    const cpu: DeviceStatus = { device: 'cpu', available: true, detail: nabla.defaultRuntime().backend('cpu').describe() };
    const gpu = 'gpu' in navigator
      ? await tryInstall('webgpu', async () => (await import('@nabla/backend-webgpu')).webgpuBackend())
      : { device: 'webgpu' as const, available: false, detail: 'this browser has no navigator.gpu' };
    const gl = await tryInstall('webgl', async () => (await import('@nabla/backend-webgl')).webglBackend());
    return [cpu, gpu, gl];
  })();
  return ready;
}

/** The device the pages run on (the header's selector); `?device=` in the URL picks it at load. */
let current: DeviceName = 'cpu';

export function currentDevice(): DeviceName {
  return current;
}

export function selectDevice(d: DeviceName): void {
  current = d;
  nabla.setDefaultDevice(d);
}
