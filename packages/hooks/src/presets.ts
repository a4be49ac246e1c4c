/**
 * Saved-tensor presets over core's `savedTensorsHooks` (PyTorch's `torch.autograd.graph.save_on_cpu`
 * and friends).
 */
import { NablaError, Tensor, defaultRuntime, type Runtime } from '@nabla/core';

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

/**
 * Saves tensors for backward as float16 (half the memory), restored to their dtype in backward.
 * Waiting for a `float16` dtype in core (see the mixed-precision issue): until a backend has one,
 * calling it throws a NablaError that says so.
 *
 * @example
 * const loss = saveAsFloat16(() => lossOf(model.call(x)));
 */
export function saveAsFloat16<T>(fn: () => T, opts: { runtime?: Runtime } = {}): T {
  const rt = opts.runtime ?? defaultRuntime();
  const devices = rt.backends.all().filter((b) => (b.dtypes as readonly string[]).includes('float16'));
  if (devices.length === 0) {
    throw new NablaError(
      "saveAsFloat16 needs a 'float16' dtype, which no installed backend has yet (core's mixed-precision work adds it); use saveOnCpu to save device memory meanwhile",
      { op: 'saveAsFloat16' },
    );
  }
  return rt.savedTensorsHooks<{ t: Tensor; dtype: string }, T>(
    (t) => ({ t: t.dtype === 'float32' || t.dtype === 'float64' ? t.to('float16' as never) : t, dtype: t.dtype }),
    (h) => (h.t.dtype === h.dtype ? h.t : h.t.to(h.dtype as never)),
    fn,
    { release: (h) => (h.t.dtype !== h.dtype ? h.t.dispose() : undefined) },
  );
}
