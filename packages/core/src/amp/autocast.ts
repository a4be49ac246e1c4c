/**
 * `nabla.autocast(device, fn, { dtype, enabled })`: PyTorch's `torch.autocast` as a callback
 * region. Inside `fn`, ops on tensors of that device type run in the precision their op list says
 * (op-lists.ts); outside, nothing changes.
 */
import { NablaError } from '../errors.js';
import { defaultAutocastDType, deviceTypeOf, enterAutocast, exitAutocast, type AutocastDType } from './state.js';

export interface AutocastOptions {
  /**
   * The low-precision dtype of the region's matrix products: `'bfloat16'` (the default on
   * `'cpu'`) or `'float16'` (the default on GPU devices).
   */
  dtype?: AutocastDType | null;
  /** `false` turns autocast off inside `fn`, also inside an enclosing enabled region. Default true. */
  enabled?: boolean | null;
  /**
   * Cast each weight (a leaf that requires grad) once per outermost region and reuse the copy,
   * as PyTorch's `cache_enabled`. Default true.
   */
  cacheEnabled?: boolean | null;
}

function isPromise(x: unknown): x is PromiseLike<unknown> {
  return x !== null && (typeof x === 'object' || typeof x === 'function') && typeof (x as { then?: unknown }).then === 'function';
}

/**
 * Runs `fn` with automatic mixed precision on `device`'s tensors and returns its result, as
 * PyTorch's `with torch.autocast(device_type, dtype=..., enabled=...)`. Matrix products and
 * convolutions run in the low-precision dtype, range-sensitive ops (losses, and on GPU devices
 * softmax, exp/log/pow, sums, norms) in float32, and ops of several inputs in the widest of them.
 * Regions nest: an inner one replaces the outer one's settings until it ends, and
 * `{ enabled: false }` turns autocast off inside. Weights are cast once per outermost region.
 *
 * Run `backward()` outside the region (PyTorch's advice too): gradients come back in each leaf's
 * own dtype through the casts' ToCopyBackward0 nodes.
 *
 * When `fn` returns a Promise, the region ends when it settles; JavaScript has no per-task state,
 * so code that runs on other tasks while it is pending sees the region too.
 *
 * @example
 * const model = new nn.Sequential(new nn.Linear(4, 8), new nn.ReLU(), new nn.Linear(8, 2));
 * const x = nabla.randn([16, 4]);
 * const out = nabla.autocast('cpu', () => model.forward(x));  // out.dtype === 'bfloat16'
 * const loss = nabla.autocast('cpu', () => nn.crossEntropy(model.forward(x), y)); // float32
 * loss.backward();                                             // weights' grads are float32
 */
export function autocast<T>(device: string, fn: () => T, opts: AutocastOptions = {}): T {
  const op = 'autocast';
  if (typeof device !== 'string' || device.length === 0) {
    throw new NablaError(`expected a device type such as 'cpu' or 'webgpu' as the first argument, got ${device === null ? 'null' : typeof device}`, { op });
  }
  if (typeof fn !== 'function') throw new NablaError(`expected a function to run as the second argument, got ${fn === null ? 'null' : typeof fn}`, { op });
  if (opts === null || typeof opts !== 'object') throw new NablaError(`expected an options object { dtype, enabled } as the third argument, got ${typeof opts}`, { op });
  const type = deviceTypeOf(device);
  const dtype = opts.dtype ?? defaultAutocastDType(type);
  if (dtype !== 'float16' && dtype !== 'bfloat16') {
    throw new NablaError(
      `dtype must be 'float16' or 'bfloat16' (the low-precision dtype of the region's matrix products), got ${JSON.stringify(dtype)}`,
      { op },
    );
  }
  const enabled = opts.enabled ?? true;
  if (typeof enabled !== 'boolean') throw new NablaError(`enabled must be a boolean, got ${typeof enabled}`, { op });
  const cacheEnabled = opts.cacheEnabled ?? true;
  const saved = enterAutocast(type, enabled, dtype, cacheEnabled);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    exitAutocast(saved);
    throw e;
  }
  if (!isPromise(result)) {
    exitAutocast(saved);
    return result;
  }
  return Promise.resolve(result).finally(() => exitAutocast(saved)) as T;
}
