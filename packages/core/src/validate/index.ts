/**
 * Input validation at the public boundary, one file per kind of argument, so every op checks a
 * shape, a dim, a scalar, a callback or an RNG state the same way and says so in the same words:
 * the op the user called, what it got (as they wrote it) and what it expected.
 */
export { fmtValue } from './format.js';
export { checkNumel, checkShape, checkShapeArgs, checkSize, MAX_NUMEL } from './shape.js';
export { checkFlag, checkOptionalScalar, checkScalar } from './scalar.js';
export { checkDimArg, checkDimsArg, checkSingleDim } from './dim.js';
export { checkCallback } from './callback.js';
export { checkRngState, checkSeed } from './rng.js';
export { checkTensor, rejectBool } from './tensor.js';
