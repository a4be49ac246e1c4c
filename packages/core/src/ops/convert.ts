/** `to(dtype)` and `to(device)`: copies that keep autograd connected (ToCopyBackward0). */
import { dtypeNames, isFloating, parseDType, type DType } from '../dtype.js';
import { NablaError } from '../errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { fromTypedArray } from '../tensor/create.js';
import { launch, launchAsync } from './deferred.js';
import { emptyOn, grad, needsGrad, record } from './dispatch.js';
import { runElementwise } from './elementwise/define.js';
import { identity } from './elementwise/table.js';

const toGrad = grad<{ dtype: DType; device: string }>('ToCopyBackward0', (g, n) => {
  let r = g[0]!;
  if (r.device !== n.attrs.device) r = r.to(n.attrs.device);
  if (r.dtype !== n.attrs.dtype) r = r.to(n.attrs.dtype);
  return [r];
});

function castTo(x: Tensor, dtype: DType): Tensor {
  x.rt.checkDType(x.device, dtype, 'to');
  const out = emptyOn(x.rt, x._ref.backend, dtype, x.shape);
  runElementwise(identity, [x], undefined, out);
  return out;
}

function moveTo(x: Tensor, device: string): Tensor {
  const src = x._ref.backend;
  if (src.readsSync && src.readSync) {
    if (x._ref.pending === null) return fromTypedArray(x.rt, device, x.dtype, x.shape, src.readSync(x._view()), 'to');
    // x is itself still arriving: copy it once it has landed.
    const out = emptyOn(x.rt, x.rt.checkDType(device, x.dtype, 'to'), x.dtype, x.shape);
    const view = x._view();
    launch(x.rt, [x], [out], () => {
      if (!out._ref.released) out._ref.backend.write(out._ref.storage, src.readSync!(view), 0);
    });
    return out;
  }
  // From an asynchronous device: the read-back starts now and its data lands later; until then
  // the copy is pending, and work on it is queued behind it (ops/deferred.ts).
  const out = emptyOn(x.rt, x.rt.checkDType(device, x.dtype, 'to'), x.dtype, x.shape);
  const view = x._view();
  launchAsync(x.rt, [x], [out], async () => {
    const data = await src.read(view);
    if (!out._ref.released) out._ref.backend.write(out._ref.storage, data, 0);
  });
  return out;
}

function finishTo(x: Tensor, out: Tensor): Tensor {
  if (x.rt.gradMode.inference) out._inference = true;
  // Integer and bool tensors cannot require grad: a cast to one ends the graph (PyTorch).
  if (isFloating(out.dtype) && needsGrad(x.rt, [x])) record(toGrad, [x], [out], { attrs: { dtype: x.dtype, device: x.device } });
  return out;
}

/** A copy with another dtype or on another device; the tensor itself when nothing changes. */
export function to(x: Tensor, target: DType | string): Tensor {
  x._alive('to');
  if (typeof target !== 'string') throw new NablaError(`expected a dtype or a device name, got ${typeof target}`, { op: 'to' });
  const dtype = parseDType(target);
  if (dtype !== null) return dtype === x.dtype ? x : finishTo(x, castTo(x, dtype));
  if (target === x.device) return x;
  if (!x.rt.backends.get(target)) {
    throw new NablaError(
      `'${target}' is neither a dtype (${dtypeNames()}) nor a registered device (${x.rt.backends.devices().join(', ')})`,
      { op: 'to' },
    );
  }
  x.rt.checkDType(target, x.dtype, 'to');
  return finishTo(x, moveTo(x, target));
}

/** `to` for devices that read back only asynchronously (WebGPU → CPU). */
export async function toAsync(x: Tensor, target: DType | string): Promise<Tensor> {
  x._alive('toAsync');
  if (parseDType(target) !== null || target === x.device || x._ref.backend.readsSync) return to(x, target);
  x.rt.checkDType(target, x.dtype, 'toAsync');
  const out = to(x, target);
  const landed = out._ref.pending;
  if (landed !== null) {
    try {
      await landed;
    } catch (e) {
      throw e instanceof NablaError ? e : new NablaError(`copying from device ${x.device} failed: ${(e as Error).message}`, { op: 'toAsync', cause: e });
    }
  }
  return out;
}
