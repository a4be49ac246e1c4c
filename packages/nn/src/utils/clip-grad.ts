/**
 * Gradient clipping, as PyTorch's `torch.nn.utils.clip_grad_norm_` / `clip_grad_value_`. The
 * gradients are scaled in place on their device (no read back), and the temporaries are freed.
 *
 * @example
 * loss.backward();
 * const total = nn.utils.clipGradNorm_(model.parameters(), 1.0); // a 0-d tensor
 * opt.step();
 */
import { defaultRuntime, div, NablaError, stack, Tensor, type Runtime } from '@nabla/core';

export interface ClipGradNormOptions {
  /** Throw when the total norm is NaN or infinite (reads the norm back: synchronous devices only). */
  errorIfNonfinite?: boolean;
  /** Where the zero norm of an empty parameter list is made (default: `defaultRuntime()`). */
  runtime?: Runtime | null;
}

function gradsOf(parameters: Tensor | Iterable<Tensor>, op: string): Tensor[] {
  const list = parameters instanceof Tensor ? [parameters] : [...parameters];
  list.forEach((p, i) => {
    if (!(p instanceof Tensor)) throw new NablaError(`parameters[${i}] is not a Tensor`, { op });
  });
  return list.map((p) => p.grad).filter((g): g is Tensor => g !== null);
}

/**
 * Scales the gradients so that their total `normType`-norm (the norm of the per-tensor norms) is
 * at most `maxNorm`; returns the total norm before clipping (a 0-d tensor on the first gradient's
 * device).
 *
 * @example
 * const norm = nn.utils.clipGradNorm_(model.parameters(), 1.0, 2, { errorIfNonfinite: true });
 */
export function clipGradNorm_(parameters: Tensor | Iterable<Tensor>, maxNorm: number, normType = 2, opts: ClipGradNormOptions = {}): Tensor {
  const op = 'clipGradNorm_';
  const grads = gradsOf(parameters, op);
  if (typeof maxNorm !== 'number' || Number.isNaN(maxNorm)) throw new NablaError(`maxNorm must be a number, got ${String(maxNorm)}`, { op });
  const first = grads[0];
  if (!first) {
    // PyTorch returns tensor(0.) when there is nothing to clip (a module without parameters, such
    // as the ReLU a per-layer loop over model.children() reaches).
    const ps = parameters instanceof Tensor ? [parameters] : [...parameters];
    const rt = ps[0]?.rt ?? opts.runtime ?? defaultRuntime();
    return rt.zeros([], ps[0] ? { device: ps[0].device } : {});
  }
  const rt = first.rt;
  return rt.noGrad(() => {
    const device = first.device;
    const norms = grads.map((g) => {
      const n = normType === Infinity ? g.abs().amax() : g.norm(normType);
      if (n.device === device) return n;
      const moved = n.to(device);
      n.dispose();
      return moved;
    });
    let total: Tensor;
    if (norms.length === 1) total = norms[0]!;
    else {
      const all = stack(norms);
      total = normType === Infinity ? all.amax() : all.norm(normType);
      all.dispose();
      for (const n of norms) n.dispose();
    }
    if (opts.errorIfNonfinite) {
      const v = total.item();
      if (!Number.isFinite(v)) {
        throw new NablaError(
          `The total norm of order ${normType} for gradients from \`parameters\` is non-finite, so it cannot be clipped. ` +
            'To disable this error and scale the gradients by the non-finite norm anyway, set errorIfNonfinite: false',
          { op },
        );
      }
    }
    // coef = min(maxNorm / (total + 1e-6), 1), applied on the device.
    const denom = total.add(1e-6);
    const coef = div(maxNorm, denom).clamp_(null, 1);
    denom.dispose();
    for (const g of grads) {
      if (g.device === device) g.mul_(coef);
      else {
        const c = coef.to(g.device);
        g.mul_(c);
        c.dispose();
      }
    }
    coef.dispose();
    return total;
  });
}

/**
 * Clamps every gradient element into [−clipValue, clipValue], in place.
 *
 * @example
 * nn.utils.clipGradValue_(model.parameters(), 0.5);
 */
export function clipGradValue_(parameters: Tensor | Iterable<Tensor>, clipValue: number): void {
  const op = 'clipGradValue_';
  if (typeof clipValue !== 'number' || Number.isNaN(clipValue)) throw new NablaError(`clipValue must be a number, got ${String(clipValue)}`, { op });
  const grads = gradsOf(parameters, op);
  if (!grads.length) return;
  grads[0]!.rt.noGrad(() => {
    for (const g of grads) g.clamp_(-clipValue, clipValue);
  });
}
