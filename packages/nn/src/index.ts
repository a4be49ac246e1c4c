/**
 * @nabla/nn — modules with PyTorch's hooks, layers, losses, optimizers and gradient clipping.
 *
 * @example
 * import * as nabla from '@nabla/core';
 * import { cpuBackend } from '@nabla/backend-cpu';
 * import { activations } from '@nabla/activations';
 * import * as nn from '@nabla/nn';
 *
 * const rt = await nabla.createRuntime({ plugins: [cpuBackend(), activations()] });
 * const model = new nn.Sequential(new nn.Linear(2, 64, { runtime: rt }), new nn.ReLU(), new nn.Linear(64, 3, { runtime: rt }));
 * const opt = new nn.optim.Adam(model.parameters(), { lr: 1e-2 });
 * for (let step = 0; step < 100; step++) {
 *   const loss = nn.utils.tidy(rt, () => { // frees what the step made: memory stays flat
 *     opt.zeroGrad();
 *     const l = nn.crossEntropy(model.call(x), y);
 *     l.backward();
 *     nn.utils.clipGradNorm_(model.parameters(), 1.0);
 *     opt.step();
 *     return l.item();
 *   });
 * }
 */
export {
  Module,
  type ForwardPreHook,
  type ForwardHook,
  type FullBackwardHook,
  type FullBackwardPreHook,
  type HookOptions,
  type StateDict,
  type StateDictOptions,
  type LoadStateDictOptions,
  type LoadStateDictResult,
} from './module.js';
export { Parameter } from './parameter.js';
export {
  registerModuleForwardPreHook,
  registerModuleForwardHook,
  registerModuleFullBackwardHook,
  registerModuleFullBackwardPreHook,
} from './global-hooks.js';
export { BackwardHookFunction } from './backward-hook.js';
export type { FactoryOptions } from './options.js';

export { Linear, Identity, type LinearOptions } from './layers/linear.js';
export { Sequential, ModuleList, ModuleDict } from './layers/containers.js';
export { Dropout } from './layers/dropout.js';
export { LayerNorm, type LayerNormOptions } from './layers/normalization.js';
export { BatchNorm1d, BatchNorm2d, type BatchNormOptions } from './layers/batchnorm.js';
export { Embedding, type EmbeddingOptions } from './layers/embedding.js';
export { Conv2d, MaxPool2d, type Conv2dOptions } from './layers/conv.js';
export { Flatten } from './layers/flatten.js';
export {
  ReLU,
  Tanh,
  Sigmoid,
  Softmax,
  LogSoftmax,
  SiLU,
  Mish,
  GELU,
  ELU,
  SELU,
  CELU,
  Softplus,
  LeakyReLU,
  ReLU6,
  Hardtanh,
  Hardswish,
  Hardsigmoid,
  Softsign,
  LogSigmoid,
  Tanhshrink,
} from './layers/activation.js';

export {
  mseLoss,
  l1Loss,
  crossEntropy,
  nllLoss,
  binaryCrossEntropyWithLogits,
  type Reduction,
  type ReductionOptions,
  type NllLossOptions,
  type CrossEntropyOptions,
  type BceWithLogitsOptions,
} from './losses.js';

export { save, load, loadBytes, type SaveOptions, type LoadOptions } from './serialization/save-load.js';
export { encodeSafetensors, decodeSafetensors, type HostTensor, type DecodedSafetensors } from './serialization/safetensors.js';
export * as functional from './functional.js';
export * as init from './init.js';
export * as optim from './optim/index.js';
export * as utils from './utils/index.js';
export * as amp from './amp.js';
