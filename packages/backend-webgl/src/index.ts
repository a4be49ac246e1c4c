export { webglBackend, backendInfo, PLUGIN_NAME, PLUGIN_VERSION } from './plugin.js';
export { WebGLBackend, KERNEL_DTYPES, type WebGLBackendOptions, type WebGLBackendInfo } from './backend.js';
export { type DeviceInfo } from './device.js';
export { WEBGL_DTYPES, INT32_EXACT_LIMIT } from './dtypes.js';
export { compileExpr } from './glsl/expr.js';
