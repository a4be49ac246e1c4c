/** Grad-mode context functions, bound to a runtime. */
import type { Runtime } from '../runtime/runtime.js';
import { checkCallback } from '../validate/callback.js';

export function noGrad<T>(rt: Runtime, fn: () => T): T {
  checkCallback('noGrad', fn);
  return rt.gradMode.run(false, rt.gradMode.inference, fn);
}

export function enableGrad<T>(rt: Runtime, fn: () => T): T {
  checkCallback('enableGrad', fn);
  return rt.gradMode.run(true, rt.gradMode.inference, fn);
}

/**
 * With `fn`: runs it with grad mode set to `flag` and restores the mode. Without: sets the mode for
 * the code that follows, as the statement `torch.set_grad_enabled(False)`.
 */
export function setGradEnabled<T>(rt: Runtime, flag: boolean, fn?: () => T): T | undefined {
  if (fn === undefined) {
    rt.gradMode.enabled = !!flag;
    return undefined;
  }
  return rt.gradMode.run(!!flag, rt.gradMode.inference, fn);
}

/** No graph, and every tensor made inside is an inference tensor that can never enter autograd. */
export function inferenceMode<T>(rt: Runtime, fn: () => T): T {
  checkCallback('inferenceMode', fn);
  return rt.gradMode.run(false, true, fn);
}

export function detectAnomaly<T>(rt: Runtime, fn: () => T): T {
  checkCallback('detectAnomaly', fn);
  const prev = rt.gradMode.anomaly;
  rt.gradMode.anomaly = true;
  try {
    return fn();
  } finally {
    rt.gradMode.anomaly = prev;
  }
}
