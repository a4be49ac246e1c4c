/**
 * @nabla/backend-testkit — the suite a backend author runs against their device: every family of
 * core's ops, forward and backward, on contiguous, strided and broadcast inputs, compared with the
 * CPU backend within per-dtype tolerances, with a leak check per case. Framework-free: it returns a
 * report, so it runs under vitest, jest, node:test or a plain script.
 *
 * @example
 * import { checkBackend } from '@nabla/backend-testkit';
 * import { webgpuBackend } from '@nabla/backend-webgpu';
 * const report = await checkBackend({ device: 'webgpu', plugins: [webgpuBackend()] });
 * console.log(report.summary());
 */
export { checkBackend, type CheckOptions, type CheckReport, type CaseFailure } from './check.js';
export { CASES, type OpCase, type InputSpec } from './cases.js';
export { DEFAULT_TOLERANCES, firstMismatch, type Tolerance } from './tolerance.js';
export { randoms } from './random.js';
