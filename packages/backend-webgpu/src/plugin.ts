import { defaultRuntime, dtypesLike, registerKernels, type Plugin, type PluginContextBase, type Runtime } from '@nabla/core';
import { KERNEL_DTYPES, WebGpuBackend, type WebGpuBackendInfo, type WebGpuBackendOptions } from './backend.js';
import { HALF_DTYPES } from './half-kernels.js';

export const PLUGIN_NAME = '@nabla/backend-webgpu';
export const PLUGIN_VERSION = '0.1.0';

/**
 * The WebGPU backend as a plugin: `await nabla.use(webgpuBackend())`. Installing it gets an
 * adapter and a device (asynchronously) and registers the `'webgpu'` device with every kernel.
 * Each call makes its own device, pool and pipeline cache.
 */
export function webgpuBackend(options: WebGpuBackendOptions = {}): Plugin {
  return {
    name: PLUGIN_NAME,
    version: PLUGIN_VERSION,
    coreRange: '^0.1.0',
    async install(ctx: PluginContextBase) {
      const backend = await WebGpuBackend.create(options);
      try {
        ctx.registerBackend(backend);
        registerKernels(ctx, { device: backend.device, kernels: backend.kernels, dtypes: KERNEL_DTYPES });
        // float16/bfloat16 wherever float32 has the kernel, through the half bridge.
        registerKernels(ctx, { device: backend.device, kernels: backend.halfKernels, dtypes: dtypesLike(KERNEL_DTYPES, 'float32', HALF_DTYPES) });
      } catch (e) {
        backend.dispose();
        throw e;
      }
    },
  };
}

/**
 * What the 'webgpu' device of `rt` runs on, and how it holds float16/bfloat16.
 *
 * @example
 * await nabla.use(webgpuBackend());
 * backendInfo().half.float16; // { storage: 'f16', arithmetic: 'f16' } with shader-f16, else { storage: 'packed-u32', arithmetic: 'f32' }
 */
export function backendInfo(rt: Runtime = defaultRuntime()): WebGpuBackendInfo {
  const b = rt.backend('webgpu', 'backendInfo');
  if (!(b instanceof WebGpuBackend)) throw new Error(`backendInfo: the 'webgpu' device of this runtime is not @nabla/backend-webgpu`);
  return b.backendInfo();
}
