import { defaultRuntime, registerKernels, type Plugin, type PluginContextBase, type Runtime } from '@nabla/core';
import { KERNEL_DTYPES, WebGLBackend, type WebGLBackendInfo, type WebGLBackendOptions } from './backend.js';

export const PLUGIN_NAME = '@nabla/backend-webgl';
export const PLUGIN_VERSION = '0.1.0';

/**
 * The WebGL backend as a plugin: `await nabla.use(webglBackend())` registers device `'webgl'`
 * (float32, int32 exact to 2^24, bool) with every kernel. In Node it runs gpu.js on headless-gl
 * (the optional `gl` package; needs an X server such as `xvfb-run`), in browsers on WebGL2.
 *
 * @example
 * ```ts
 * import * as nabla from '@nabla/core';
 * import { cpuBackend } from '@nabla/backend-cpu';
 * import { webglBackend, backendInfo } from '@nabla/backend-webgl';
 *
 * await nabla.use(cpuBackend());
 * await nabla.use(webglBackend());
 * const x = nabla.tensor([1, 2, 3], { device: 'webgl', requiresGrad: true });
 * x.mul(x).sum().backward();
 * console.log(x.grad!.tolist(), backendInfo().kernelClass); // [2, 4, 6] 'HeadlessGLKernel'
 * ```
 */
export function webglBackend(options: WebGLBackendOptions = {}): Plugin {
  return {
    name: PLUGIN_NAME,
    version: PLUGIN_VERSION,
    coreRange: '^0.1.0',
    async install(ctx: PluginContextBase) {
      const backend = await WebGLBackend.create(options);
      try {
        ctx.registerBackend(backend);
        registerKernels(ctx, { device: backend.device, kernels: backend.kernels, dtypes: KERNEL_DTYPES });
      } catch (e) {
        backend.dispose();
        throw e;
      }
    },
  };
}

/**
 * What runs the `webgl` device of `rt`: the GL renderer and the gpu.js kernel class that ran the
 * last kernel (`HeadlessGLKernel` in Node, `WebGL2Kernel` in browsers — never a CPU or WebAssembly
 * fallback: the backend throws instead).
 */
export function backendInfo(rt: Runtime = defaultRuntime()): WebGLBackendInfo {
  const b = rt.backend('webgl', 'backendInfo');
  if (!(b instanceof WebGLBackend)) throw new Error(`backendInfo: the 'webgl' device of this runtime is not @nabla/backend-webgl`);
  return b.backendInfo();
}
