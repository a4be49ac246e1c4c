/**
 * The everyday ops of `methods-everyday.ts` as functions: `nabla.sort(x)`, `nabla.isclose(a, b)`,
 * `nabla.cumsum(x, 0)`.
 */
export { all, allclose, any, isclose, isfinite, isinf, isneginf, isposinf, nanToNum } from './predicates.js';
export type { IscloseOptions, NanToNumOptions } from './predicates.js';
export { cumprod, cumsum, type ScanOptions } from './scan.js';
export { sort, topk, type SortOptions, type TopkOptions } from './sort.js';
