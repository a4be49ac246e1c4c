import type { KernelName, KernelSignatures, Plugin, PluginContextBase } from '@nabla/core';
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
      for (const name of Object.keys(KERNEL_DTYPES) as KernelName[]) registerOne(ctx, backend, name);
    },
  };
}

function registerOne<K extends KernelName>(ctx: PluginContextBase, backend: CpuBackend, name: K): void {
  const kernel: KernelSignatures[K] = backend.kernels[name];
  ctx.registerKernel({ name, device: backend.device, dtypes: KERNEL_DTYPES[name], kernel });
  // float16/bfloat16 wherever float32 has the kernel, through the half bridge.
  if (KERNEL_DTYPES[name].includes('float32')) {
    ctx.registerKernel({ name, device: backend.device, dtypes: HALF_DTYPES, kernel: backend.halfKernels[name] });
  }
}
