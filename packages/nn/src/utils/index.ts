/** `nn.utils`: gradient clipping and tensor lifetimes. */
export { clipGradNorm_, clipGradValue_, type ClipGradNormOptions } from './clip-grad.js';
export { tidy, keep } from './tidy.js';
