/**
 * `gradientClipHook`: clipping as hooks, so it happens as each gradient is accumulated (per
 * parameter) or right after backward (global norm), with no separate call in the training loop.
 * Everything runs on the device; the fraction clipped is noted on a recorder without a read.
 */
import { NablaError, stack, type Tensor } from '@nabla/core';
import type { Recorder } from './recorder.js';

export type ClipSpec = number | { maxNorm: number; normType?: number; global?: boolean } | { value: number };

export interface ClipOptions {
  /** Note the fraction of clipped gradients on this recorder's steps (as `clipped`). */
  recorder?: Recorder | null;
  /** The scalar's name on the recorder (default `clipped`). */
  name?: string;
}

/**
 * Clips gradients as backward produces them: `maxNorm` scales each parameter's gradient to at most
 * that norm (PyTorch's per-parameter `clip_grad_norm_`), `{ maxNorm, global: true }` scales all of
 * them together after each backward (`clip_grad_norm_` over the list), `{ value }` clamps every
 * element to [-value, value] (`clip_grad_value_`).
 *
 * @example
 * const clip = gradientClipHook(model.parameters(), { maxNorm: 1 }, { recorder: rec });
 * loss.backward();            // gradients arrive clipped
 * clip.remove();
 */
export function gradientClipHook(params: Iterable<Tensor>, spec: ClipSpec, opts: ClipOptions = {}): { remove(): void } {
  const ps = [...params];
  const op = 'gradientClipHook';
  const s = typeof spec === 'number' ? { maxNorm: spec } : spec;
  const name = opts.name ?? 'clipped';
  if (ps.length === 0) throw new NablaError('expected at least one parameter', { op });
  const rec = opts.recorder ?? null;
  const handles: { remove(): void }[] = [];
  if ('value' in s) {
    const v = s.value;
    if (!(v >= 0)) throw new NablaError(`value must be >= 0, got ${v}`, { op });
    let flags: Tensor[] = [];
    for (const p of ps) {
      handles.push(
        p.registerPostAccumulateGradHook((t) => {
          const g = t.grad!;
          t.rt.noGrad(() => {
            if (rec?.logging) flags.push(t.rt.outsideTidy(() => g.abs().amax().gt(v).to(g.dtype)));
            g.clamp_(-v, v);
          });
          if (rec && flags.length === ps.length) {
            const f = flags;
            flags = [];
            rec.note(name, t.rt.noGrad(() => stack(f).mean()));
            f.forEach((x) => x.dispose());
          }
        }),
      );
    }
    return { remove: () => handles.forEach((h) => h.remove()) };
  }
  const maxNorm = s.maxNorm;
  const p = s.normType ?? 2;
  if (!(maxNorm > 0)) throw new NablaError(`maxNorm must be > 0, got ${maxNorm}`, { op });
  if (!s.global) {
    let flags: Tensor[] = [];
    for (const param of ps) {
      handles.push(
        param.registerPostAccumulateGradHook((t) => {
          const g = t.grad!;
          t.rt.noGrad(() =>
            t.rt.tidy(() => {
              const norm = g.norm(p);
              const scale = norm.add(1e-6).reciprocal().mul(maxNorm).clamp(null, 1);
              if (rec?.logging) flags.push(t.rt.outsideTidy(() => norm.gt(maxNorm).to(g.dtype)));
              g.mul_(scale);
            }),
          );
          if (rec && flags.length === ps.length) {
            const f = flags;
            flags = [];
            rec.note(name, t.rt.noGrad(() => stack(f).mean()));
            f.forEach((x) => x.dispose());
          }
        }),
      );
    }
    return { remove: () => handles.forEach((h) => h.remove()) };
  }
  // Global norm: after each backward, over every gradient that exists.
  const rt = ps[0]!.rt;
  const onEnd = (): void => {
    const grads = ps.map((q) => q.grad).filter((g): g is Tensor => g !== null);
    if (grads.length === 0) return;
    rt.noGrad(() =>
      rt.tidy(() => {
        const total = stack(grads.map((g) => g.norm(p))).norm(p);
        const scale = total.add(1e-6).reciprocal().mul(maxNorm).clamp(null, 1);
        for (const g of grads) g.mul_(scale);
        if (rec?.logging) rec.note(name, total.gt(maxNorm).to(grads[0]!.dtype));
      }),
    );
  };
  rt.events.on('backward:end', onEnd);
  return { remove: () => rt.events.off('backward:end', onEnd) };
}
