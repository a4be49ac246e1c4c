/**
 * Autocast's state and its one seam in op dispatch: `castOperands(op, operands)`, called at the
 * entry of every op on the lists (op-lists.ts), returns the operands cast per the op's policy when
 * an autocast region is active for their device type, and the operands themselves otherwise.
 *
 * The state is module-wide (JavaScript runs ops on one thread), one entry per device type, as
 * PyTorch keeps one per device type per thread. Casting uses `Tensor.to`, which records
 * ToCopyBackward0: gradients flow back to float32 leaves in float32.
 */
import type { DType } from '../dtype.js';
import { Tensor } from '../tensor/tensor.js';
import { opPolicyTable, type CastPolicy, type OpPolicyTable } from './op-lists.js';

/** The 16-bit floating dtypes autocast runs its `lower` ops in. */
export type AutocastDType = 'float16' | 'bfloat16';

interface DeviceState {
  enabled: boolean;
  dtype: AutocastDType;
  cacheEnabled: boolean;
  readonly policy: OpPolicyTable;
}

interface CacheEntry {
  readonly copy: Tensor;
  readonly version: number;
  readonly gradEnabled: boolean;
}

const states = new Map<string, DeviceState>();

/**
 * Whether any device type has autocast on: the one check every listed op pays when no region is
 * active.
 */
export const AMP = { active: false, depth: 0 };

/** Weight casts made in the current outermost region (PyTorch's autocast cache). */
const cache = new Map<Tensor, Map<string, CacheEntry>>();

/** `'webgpu:1'` → `'webgpu'`. */
export function deviceTypeOf(device: string): string {
  const i = device.indexOf(':');
  return i < 0 ? device : device.slice(0, i);
}

/** PyTorch's default low-precision dtype of a device type: bfloat16 on the CPU, float16 on GPUs. */
export function defaultAutocastDType(deviceType: string): AutocastDType {
  return deviceType === 'cpu' ? 'bfloat16' : 'float16';
}

function stateOf(deviceType: string): DeviceState {
  let s = states.get(deviceType);
  if (s === undefined) {
    s = { enabled: false, dtype: defaultAutocastDType(deviceType), cacheEnabled: true, policy: opPolicyTable(deviceType) };
    states.set(deviceType, s);
  }
  return s;
}

/** A snapshot to restore when a region ends. */
export interface SavedAutocastState {
  readonly deviceType: string;
  readonly enabled: boolean;
  readonly dtype: AutocastDType;
  readonly cacheEnabled: boolean;
}

export function enterAutocast(deviceType: string, enabled: boolean, dtype: AutocastDType, cacheEnabled: boolean): SavedAutocastState {
  const s = stateOf(deviceType);
  const saved = { deviceType, enabled: s.enabled, dtype: s.dtype, cacheEnabled: s.cacheEnabled };
  s.enabled = enabled;
  s.dtype = dtype;
  s.cacheEnabled = cacheEnabled;
  AMP.depth++;
  refreshActive();
  return saved;
}

export function exitAutocast(saved: SavedAutocastState): void {
  const s = stateOf(saved.deviceType);
  s.enabled = saved.enabled;
  s.dtype = saved.dtype;
  s.cacheEnabled = saved.cacheEnabled;
  AMP.depth--;
  refreshActive();
  // As PyTorch: the cache lives until the outermost region ends.
  if (AMP.depth === 0) clearAutocastCache();
}

function refreshActive(): void {
  let on = false;
  for (const s of states.values()) if (s.enabled) on = true;
  AMP.active = on;
}

/** Drops the cached weight casts (graphs that saved them keep their storage). */
export function clearAutocastCache(): void {
  for (const byDtype of cache.values()) for (const e of byDtype.values()) if (!e.copy._disposed) e.copy.dispose();
  cache.clear();
}

/**
 * Whether autocast is on for a device type (`'cpu'`, `'webgpu'`, ...), as PyTorch's
 * `torch.is_autocast_enabled`.
 *
 * @example
 * nabla.autocast('cpu', () => nabla.isAutocastEnabled('cpu')); // true
 */
export function isAutocastEnabled(deviceType = 'cpu'): boolean {
  return states.get(deviceTypeOf(deviceType))?.enabled ?? false;
}

/**
 * The low-precision dtype autocast uses on a device type (its default outside any region), as
 * PyTorch's `torch.get_autocast_cpu_dtype`.
 *
 * @example
 * nabla.getAutocastDType('cpu');    // 'bfloat16'
 * nabla.getAutocastDType('webgpu'); // 'float16'
 */
export function getAutocastDType(deviceType = 'cpu'): AutocastDType {
  const t = deviceTypeOf(deviceType);
  return states.get(t)?.dtype ?? defaultAutocastDType(t);
}

/**
 * The policy autocast applies to `op` on `device` now, or null (off, or op not listed).
 *
 * @example
 * nabla.autocast('cpu', () => nabla.amp.activePolicy('mm', 'cpu')); // 'lower'
 */
export function activePolicy(op: string, device: string): CastPolicy | null {
  if (!AMP.active) return null;
  const s = states.get(deviceTypeOf(device));
  if (s === undefined || !s.enabled) return null;
  return s.policy[op] ?? null;
}

// 16-bit dtypes are compared by name: they join the DType union with the float16 work.
function isEligible(t: Tensor): boolean {
  const d: string = t.dtype;
  return d === 'float32' || d === 'float16' || d === 'bfloat16';
}

/** PyTorch's autocast promote: start from the low dtype, widen over the eligible inputs. */
function widest(low: AutocastDType, operands: readonly unknown[]): string {
  let to: string = low;
  for (const o of operands) {
    if (!(o instanceof Tensor) || !isEligible(o)) continue;
    const d: string = o.dtype;
    if (d !== to) to = 'float32';
  }
  return to;
}

function cast(t: Tensor, to: string, s: DeviceState): Tensor {
  const target = to as DType;
  const rt = t.rt;
  // As PyTorch caches only leaves that require grad (weights), which every step reuses.
  if (!(s.cacheEnabled && t.isLeaf && t.requiresGrad)) return t.to(target);
  let byDtype = cache.get(t);
  const gradEnabled = rt.gradMode.enabled;
  const version = t._ref.version;
  const hit = byDtype?.get(to);
  // Unlike PyTorch, a weight changed in place, or a cast made in another grad mode, is cast anew.
  if (hit !== undefined && !hit.copy._disposed && hit.version === version && hit.gradEnabled === gradEnabled) return hit.copy;
  if (hit !== undefined && !hit.copy._disposed) hit.copy.dispose();
  // Outside any tidy: the copy serves every use in the region, not just the op that made it.
  const copy = rt.outsideTidy(() => t.to(target));
  if (byDtype === undefined) cache.set(t, (byDtype = new Map()));
  byDtype.set(to, { copy, version, gradEnabled });
  return copy;
}

/**
 * The operands of `op` as autocast wants them on their device now: the same array when nothing
 * changes (autocast off, op not listed, or already in the right dtype). `null`/`undefined`
 * entries (an absent bias) and JS numbers pass through.
 */
export function castOperands<T extends readonly unknown[]>(op: string, operands: T): T {
  if (!AMP.active) return operands;
  let device: string | null = null;
  for (const o of operands) {
    if (o instanceof Tensor) {
      device = o.device;
      break;
    }
  }
  if (device === null) return operands;
  const s = states.get(deviceTypeOf(device));
  if (s === undefined || !s.enabled) return operands;
  const policy = s.policy[op];
  if (policy === undefined) return operands;
  const to = policy === 'lower' ? s.dtype : policy === 'fp32' ? 'float32' : widest(s.dtype, operands);
  let out: unknown[] | null = null;
  for (let i = 0; i < operands.length; i++) {
    const o = operands[i];
    if (!(o instanceof Tensor) || !isEligible(o) || o.dtype === to) continue;
    out ??= operands.slice();
    out[i] = cast(o, to, s);
  }
  return (out ?? operands) as unknown as T;
}
