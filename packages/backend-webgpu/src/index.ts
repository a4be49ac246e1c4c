export { webgpuBackend, backendInfo, PLUGIN_NAME, PLUGIN_VERSION } from './plugin.js';
export { WebGpuBackend, KERNEL_DTYPES, type WebGpuBackendOptions, type WebGpuBackendInfo, type HalfDTypeInfo } from './backend.js';
export { acquireDevice, backendOfFlags, type AdapterOptions, type AcquiredDevice } from './adapter.js';
export { GpuStorage, BufferPool, sizeClass } from './storage.js';
export { compileElementwise, generateBody, elementwiseSource } from './compile-elementwise.js';
export { Dispatcher } from './dispatcher.js';
export { WEBGPU_DTYPES } from './dtypes.js';
export { probeNodeAdapter, SWIFTSHADER_ICD, type ProbeResult } from './probe.js';
