/**
 * @internal The state behind dispatch hooks (see dispatch-hooks.ts for the public side): the hooks
 * in force per runtime, and the test kernel launch sites make before offering a launch to them.
 * Kept apart from dispatch-hooks.ts so that the launch sites (dispatch.ts, elementwise/define.ts)
 * import no op definitions (dispatch-hooks.ts copies answers with the elementwise identity).
 */
import { NablaError, fmtShape } from '../errors.js';
import type { Runtime } from '../runtime/runtime.js';
import { Tensor } from '../tensor/tensor.js';

/** One kernel launch, as a dispatch hook sees it. */
export interface KernelCall {
  /** The op the user called (`mm`, `relu`, `addmm`, `sum`, ...). */
  readonly op: string;
  /** The backend kernel that would run (`bmm`, `elementwise`, `sum`, ...). */
  readonly kernel: string;
  readonly device: string;
  /** The tensors the kernel reads. */
  readonly reads: readonly Tensor[];
  /** The tensors it writes (allocated already; their contents are what the kernel would make). */
  readonly writes: readonly Tensor[];
}

/**
 * Called before each kernel launch while in force. Return nothing to let the kernel run, or one
 * tensor per write (same shape, dtype, device) to answer it: the kernel is skipped and each write
 * gets a copy of its answer. A hook must not run ops on the call's runtime itself.
 */
export type DispatchHook = (call: KernelCall) => readonly Tensor[] | undefined | void;

const stacks = new WeakMap<Runtime, DispatchHook[]>();
/** How many hooks are in force over every runtime: the hot path's only test. */
let inForce = 0;
/** Set while an answer is copied into the writes: that copy is no call for the hooks. */
let answering = false;
let copier: ((dst: Tensor, src: Tensor) => void) | null = null;

/** True when a dispatch hook may want to see a kernel launch (tested before building a call). */
export function dispatchHooked(): boolean {
  return inForce > 0 && !answering;
}

export function pushDispatchHook(rt: Runtime, hook: DispatchHook): void {
  let stack = stacks.get(rt);
  if (!stack) stacks.set(rt, (stack = []));
  stack.push(hook);
  inForce++;
}

export function popDispatchHook(rt: Runtime): void {
  inForce--;
  stacks.get(rt)!.pop();
}

/** How answers reach the writes (set by dispatch-hooks.ts: an elementwise identity). */
export function setDispatchCopier(fn: (dst: Tensor, src: Tensor) => void): void {
  copier = fn;
}

/**
 * Offers a kernel launch to the hooks of `rt` (innermost first; every hook sees it, the innermost
 * answer is used). True when one answered: the writes then hold copies of the answer and the
 * caller must not run the kernel.
 */
export function offerKernel(rt: Runtime, op: string, kernel: string, reads: readonly Tensor[], writes: readonly Tensor[]): boolean {
  const stack = stacks.get(rt);
  if (!stack || stack.length === 0) return false;
  const call: KernelCall = { op, kernel, device: writes[0]?.device ?? reads[0]?.device ?? '', reads, writes };
  let answer: readonly Tensor[] | null = null;
  for (let i = stack.length - 1; i >= 0; i--) {
    const a = stack[i]!(call);
    if (a !== undefined && answer === null) answer = a;
  }
  if (answer === null) return false;
  check(call, answer);
  answering = true;
  try {
    for (let i = 0; i < writes.length; i++) if (writes[i] !== answer[i]) copier!(writes[i]!, answer[i]!);
  } finally {
    answering = false;
  }
  return true;
}

function check(call: KernelCall, answer: readonly Tensor[]): void {
  const op = call.op;
  if (!Array.isArray(answer) || answer.length !== call.writes.length) {
    const got = Array.isArray(answer) ? `${answer.length} tensor(s)` : typeof answer;
    throw new NablaError(`a dispatch hook answered kernel '${call.kernel}' with ${got}; it writes ${call.writes.length} tensor(s)`, { op });
  }
  call.writes.forEach((w, i) => {
    const a: unknown = answer[i];
    if (!(a instanceof Tensor) || a.isDisposed) {
      throw new NablaError(`a dispatch hook answered kernel '${call.kernel}' write ${i} with ${a instanceof Tensor ? 'a disposed tensor' : typeof a}; expected a tensor`, { op });
    }
    if (a.dtype !== w.dtype || a.device !== w.device || a.shape.length !== w.shape.length || a.shape.some((d, k) => d !== w.shape[k])) {
      throw new NablaError(
        `a dispatch hook answered kernel '${call.kernel}' write ${i} with ${a.dtype} ${fmtShape(a.shape)} on ${a.device}; the kernel writes ${w.dtype} ${fmtShape(w.shape)} on ${w.device}`,
        { op },
      );
    }
  });
}
