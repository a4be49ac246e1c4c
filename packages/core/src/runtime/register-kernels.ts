/**
 * Registering a backend's structured kernels from one table, typed per name: what a backend's
 * `install` would otherwise write as a loop over names with a cast per call.
 */
import type { KernelName, KernelSignatures, StructuredKernel } from '../backend/types.js';
import type { DType } from '../dtype.js';
import type { PluginContextBase } from './plugin.js';

/**
 * Some or all of the structured kernels, each with its own signature. A full table (every
 * required kernel) can be typed as `KernelSignatures` instead; both register with
 * `registerKernels`.
 */
export type KernelTable = { readonly [K in KernelName]?: KernelSignatures[K] };

export interface KernelTableRegistration {
  readonly device: string;
  readonly kernels: KernelTable;
  /** dtypes for every kernel, or per kernel name (names left out get `default`). */
  readonly dtypes: readonly DType[] | { readonly [K in KernelName]?: readonly DType[] };
  /** dtypes for kernels the per-name map leaves out. */
  readonly default?: readonly DType[];
  /** Replace kernels another plugin registered for the same (name, device, dtype). */
  readonly override?: boolean;
}

/**
 * Registers every kernel of `reg.kernels` for `reg.device`, each checked against its own signature:
 * the one call that replaces a loop of `ctx.registerKernel` (which, with a loop variable of the
 * union type `KernelName`, accepts any kernel of the table under any name).
 *
 * @example
 * install(ctx) {
 *   ctx.registerBackend(backend);
 *   registerKernels(ctx, { device: 'toy', kernels: { sum, prod, bmm }, dtypes: ['float32', 'float64'] });
 * }
 */
export function registerKernels(ctx: PluginContextBase, reg: KernelTableRegistration): void {
  const perName = Array.isArray(reg.dtypes) ? null : (reg.dtypes as { readonly [K in KernelName]?: readonly DType[] });
  for (const name of Object.keys(reg.kernels) as KernelName[]) one(ctx, reg, name, perName);
}

function one<K extends KernelName>(
  ctx: PluginContextBase,
  reg: KernelTableRegistration,
  name: K,
  perName: { readonly [N in KernelName]?: readonly DType[] } | null,
): void {
  const kernel = reg.kernels[name] as StructuredKernel<K> | undefined;
  if (kernel === undefined) return;
  const dtypes = perName ? (perName[name] ?? reg.default ?? []) : (reg.dtypes as readonly DType[]);
  if (dtypes.length === 0) return; // a name the per-name map leaves out, with no default
  ctx.registerKernel({ name, device: reg.device, dtypes, kernel, ...(reg.override ? { override: true } : {}) });
}

/**
 * A per-name dtype map that gives `extra` to every kernel whose entry in `table` lists `like`: how a
 * backend registers a second kernel table (say, float16/bfloat16 through a float32 bridge) for
 * exactly the kernels its float32 table has.
 *
 * @example
 * registerKernels(ctx, { device, kernels: halfKernels, dtypes: dtypesLike(KERNEL_DTYPES, 'float32', ['float16', 'bfloat16']) });
 */
export function dtypesLike(
  table: { readonly [K in KernelName]?: readonly DType[] },
  like: DType,
  extra: readonly DType[],
): { [K in KernelName]?: readonly DType[] } {
  const out: { [K in KernelName]?: readonly DType[] } = {};
  for (const name of Object.keys(table) as KernelName[]) if (table[name]?.includes(like)) out[name] = extra;
  return out;
}
