export { cpuBackend, PLUGIN_NAME, PLUGIN_VERSION } from './plugin.js';
export { CpuBackend, KERNEL_DTYPES, type CpuBackendOptions } from './backend.js';
export { CpuStorage, BufferPool, sizeClass } from './storage.js';
export { compileElementwise } from './compile-elementwise.js';
export { hasRelaxedMadd } from './wasm/gemm-kernel.js';
