/** `nn.optim`: optimizers and `lrScheduler`. */
export { Optimizer, type ParamGroup, type ParamGroupInput, type Params, type ParamState, type OptimizerStateDict } from './optimizer.js';
export { SGD, type SGDOptions, type SGDHyper } from './sgd.js';
export { Adam, AdamW, type AdamOptions, type AdamHyper } from './adam.js';
export { RMSprop, type RMSpropOptions, type RMSpropHyper } from './rmsprop.js';
export * as lrScheduler from './lr-scheduler.js';
