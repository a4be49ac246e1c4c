/**
 * What code running inside a checkpoint can ask: whether this run is a recompute (so forward hooks
 * that log or count can skip it), and which module of a `checkpointSequential` is running (for
 * per-module policies).
 */

let recomputeDepth = 0;
let moduleLabel: string | null = null;

/**
 * True while a checkpoint reruns its function during backward. Forward hooks, loggers and
 * counters use it to tell the rerun from the real forward.
 *
 * @example
 * layer.registerForwardHook(() => { if (!isRecomputing()) calls++; });
 */
export function isRecomputing(): boolean {
  return recomputeDepth > 0;
}

/** @internal */
export function duringRecompute<T>(fn: () => T): T {
  recomputeDepth++;
  try {
    return fn();
  } finally {
    recomputeDepth--;
  }
}

/** @internal The module label policies see (`3:Linear`), set around one module's forward. */
export function inModule<T>(label: string, fn: () => T): T {
  const outer = moduleLabel;
  moduleLabel = label;
  try {
    return fn();
  } finally {
    moduleLabel = outer;
  }
}

/** @internal */
export function currentModule(): string | null {
  return moduleLabel;
}
