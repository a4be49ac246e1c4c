/**
 * Saved-tensor presets over core's `savedTensorsHooks` (PyTorch's `torch.autograd.graph.save_on_cpu`
 * and friends).
 */
import { NablaError, Tensor, defaultRuntime, type DType, type Runtime } from '@nabla/core';

interface HostCopy {
  copy: Tensor;
  device: string;
}

/**
 * Runs `fn` so that the tensors its ops save for backward live in host memory until backward
 * (PyTorch's `save_on_cpu`): each is copied to the CPU when saved and back to its device when a
 * gradient formula needs it, so the device only holds them one node at a time. Parameters (leaves
 * that require grad) are kept as they are: they stay on the device anyway.
 *
 * On an asynchronous device the copies land after `fn` returns; the device buffers go when they
 * have (`await nabla.synchronize()` between forward and backward lets them, and keeps backward
 * from queueing behind them). Needs the CPU backend installed.
 *
 * @example
 * const loss = saveOnCpu(() => lossOf(model.call(x)));   // activations wait on the host
 * await nabla.synchronize();
 * loss.backward();
 */
export function saveOnCpu<T>(fn: () => T, opts: { runtime?: Runtime } = {}): T {
  const rt = opts.runtime ?? defaultRuntime();
  rt.backend('cpu', 'saveOnCpu');
  // A tensor kept as it is goes back to core as the handle itself, so core pins it as it pins saved
  // tensors without hooks: the code that made it may dispose it (losses free their temporaries).
  return rt.savedTensorsHooks<Tensor | HostCopy, T>(
    (t) => ((t.isLeaf && t.requiresGrad) || t.device === 'cpu' ? t : { copy: t.to('cpu'), device: t.device }),
    (h) => (h instanceof Tensor ? h : h.copy.to(h.device)),
    fn,
    { release: (h) => void (h instanceof Tensor ? undefined : h.copy.dispose()) },
  );
}

/** One float16 copy, shared by every save of the same tensor (an activation is saved by the op
 * that made it and by the next one: one copy, not two). */
interface SharedHalf {
  readonly half: Tensor;
  readonly version: number;
  uses: number;
}

/** Live copies by source tensor, across saveAsFloat16 calls (layers often run in calls of their own). */
const copies = new WeakMap<Tensor, SharedHalf>();

interface HalfCopy {
  /** What backward gets back: the original (kept), or the shared copy cast back to `dtype`. */
  keep: Tensor | null;
  source: Tensor | null;
  shared: SharedHalf | null;
  dtype: DType;
}

/**
 * Runs `fn` so that the float32/float64 tensors its ops save for backward are kept as float16
 * (half the memory of float32) and cast back to their own dtype when a gradient formula needs
 * them. Gradients are then computed from values rounded to float16 (about 3 significant digits;
 * values beyond ±65504 become infinite). Parameters (leaves that require grad) are kept as they
 * are: they live on anyway, so a copy would add memory rather than save it. A tensor saved by
 * several ops (an activation is saved by the op that made it and by the next) gets one copy. Tensors on a device without float16, and
 * those already in 16 bits, are kept as they are too. The memory is saved once the float32
 * originals are gone (disposed, or out of the `tidy` that made them).
 *
 * @example
 * const loss = saveAsFloat16(() => lossOf(model.call(x)));   // activations saved as float16
 * loss.backward();                                            // gradients in float32
 */
export function saveAsFloat16<T>(fn: () => T, opts: { runtime?: Runtime } = {}): T {
  const rt = opts.runtime ?? defaultRuntime();
  const half = new Set(rt.backends.all().filter((b) => (b.dtypes as readonly string[]).includes('float16')).map((b) => b.device));
  if (half.size === 0) {
    throw new NablaError("saveAsFloat16 needs a backend with the 'float16' dtype; none of the installed backends has it", { op: 'saveAsFloat16' });
  }
  return rt.savedTensorsHooks<HalfCopy, T>(
    (t) => {
      if ((t.isLeaf && t.requiresGrad) || !(t.dtype === 'float32' || t.dtype === 'float64') || !half.has(t.device)) {
        return { keep: t, source: null, shared: null, dtype: t.dtype };
      }
      // An in-place write since the last copy (the version moved) needs a fresh one.
      let s = copies.get(t);
      if (s === undefined || s.version !== t._ref.version) {
        s = { half: rt.outsideTidy(() => rt.noGrad(() => t.to('float16'))), version: t._ref.version, uses: 0 };
        copies.set(t, s);
      }
      s.uses++;
      return { keep: null, source: t, shared: s, dtype: t.dtype };
    },
    (h) => h.keep ?? rt.noGrad(() => h.shared!.half.to(h.dtype)),
    fn,
    {
      release: (h) => {
        const s = h.shared;
        if (s === null || --s.uses > 0) return;
        s.half.dispose();
        if (copies.get(h.source!) === s) copies.delete(h.source!);
      },
    },
  );
}
