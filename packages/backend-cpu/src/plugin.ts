import { dtypesLike, registerKernels, type Plugin, type PluginContextBase } from '@nabla/core';
import { CpuBackend, KERNEL_DTYPES, type CpuBackendOptions } from './backend.js';
import { HALF_DTYPES } from './half-kernels.js';

export const PLUGIN_NAME = '@nabla/backend-cpu';
export const PLUGIN_VERSION = '0.1.0';

/**
 * The CPU backend as a plugin: `await nabla.use(cpuBackend())`. Each call makes its own backend
 * (own pool and kernel cache).
 */
export function cpuBackend(options: CpuBackendOptions = {}): Plugin {
  return {
    name: PLUGIN_NAME,
    version: PLUGIN_VERSION,
    coreRange: '^0.1.0',
    async install(ctx: PluginContextBase) {
      const backend = new CpuBackend(options);
      await backend.init();
      ctx.registerBackend(backend);
      registerKernels(ctx, { device: backend.device, kernels: backend.kernels, dtypes: KERNEL_DTYPES });
      // float16/bfloat16 wherever float32 has the kernel, through the half bridge.
      registerKernels(ctx, { device: backend.device, kernels: backend.halfKernels, dtypes: dtypesLike(KERNEL_DTYPES, 'float32', HALF_DTYPES) });
    },
  };
}
