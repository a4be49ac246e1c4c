/**
 * @nabla/activations — fused activation ops for every backend, plus reference custom Functions.
 *
 * @example
 * import * as nabla from '@nabla/core';
 * import { cpuBackend } from '@nabla/backend-cpu';
 * import * as act from '@nabla/activations';
 * await nabla.use(cpuBackend());
 * await nabla.use(act.activations());
 * const x = nabla.tensor([-1, 0, 2], { requiresGrad: true });
 * act.silu(x).sum().backward();
 */
export { activations, VERSION, type ActivationsOptions } from './plugin.js';
export * from './functions.js';
export { SwishFunction, MishFunction, HardSwishFunction } from './reference.js';
export { sample, type SampleOptions, type Samples } from './sample.js';
export { defineActivation, type Activation, type ActivationSpec } from './define.js';
export { ALL as ACTIVATIONS, SELU_ALPHA, SELU_SCALE } from './table.js';
