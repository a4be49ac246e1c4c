/**
 * What the test page and the Node side of the browser tests say to each other (plain JSON).
 */

/** The check groups the page runs, one vitest `it` each, in this order. */
export const GROUPS = [
  'elementwise: every expression function (27 unary, 16 binary)',
  'elementwise: core tensor ops, dtypes, casts, views and in-place',
  'matmul: shapes around the 64x64 tile, transposed and batched',
  'reductions: each op over each dim, dim sets and all dims',
  'softmax / logSoftmax: rows of 1, rows of 10,000, each dim',
  'sort / topk / cumsum / cumprod: each dim, ties and NaN, rows of 1 to 1,500',
  'mlp: 2-layer forward/backward/SGD matches the cpu within 1e-4',
] as const;

export type GroupName = (typeof GROUPS)[number];

/** `navigator.gpu.requestAdapter()`'s answer, as the page saw it. */
export interface AdapterReport {
  /** The backend's own description of the adapter its device runs on. */
  readonly description: string;
  /** `GPUAdapter.info` (full only with --enable-webgpu-developer-features). */
  readonly info: Readonly<Record<string, string | number | boolean>>;
  readonly features: readonly string[];
  readonly userAgent: string;
}

export type InitResult =
  | { readonly ok: true; readonly adapter: AdapterReport }
  /** No WebGPU here (no `navigator.gpu`, or no adapter): the suite skips with this reason. */
  | { readonly ok: false; readonly reason: string };

export interface GroupResult {
  readonly name: string;
  /** Comparisons made (each one an element-wise comparison of a whole result). */
  readonly checks: number;
  /** One line per failed comparison, naming it and the first mismatches. */
  readonly failures: readonly string[];
  /** An exception that stopped the group, with its stack. */
  readonly error?: string;
  /** Lines the group wants printed (losses, sizes). */
  readonly notes: readonly string[];
  readonly ms: number;
}

/** What the page puts on `window` for the Node side to call. */
export interface PageApi {
  init(): Promise<InitResult>;
  run(group: string): Promise<GroupResult>;
}

export const PAGE_GLOBAL = '__nablaBrowserTests';
