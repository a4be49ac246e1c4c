/**
 * Saved-tensor hooks, PyTorch's `torch.autograd.graph.saved_tensors_hooks`: while a function runs,
 * every tensor an op (or a custom Function's `saveForBackward`) saves for backward goes through
 * `pack`, and what `pack` returned comes back through `unpack` when a gradient formula needs it.
 *
 * The graph keeps only the handle `pack` returns (any value: a CPU copy, a float16 copy, a key
 * into a cache, nothing at all) plus the saved tensor's metadata, so the original's device memory
 * goes as soon as nothing else holds it. `unpack` may return any tensor with the saved shape, dtype
 * and device (a copy back, a recomputation); core gives it the original's place in the graph, so
 * `createGraph` and double backward see the same graph as without hooks. Nothing here reads tensor
 * values, so hooks work unchanged on asynchronous devices.
 *
 * The hooks in force are a per-runtime stack (the innermost pair wins, as in PyTorch); what
 * `@nabla/checkpoint` and presets such as `@nabla/hooks`' `saveOnCpu` need is exported from here:
 * {@link savedTensorsHooks}, {@link currentSavedTensorsHooks}, {@link withoutSavedTensorsHooks}.
 */
import type { DType } from '../dtype.js';
import { NablaError, fmtShape } from '../errors.js';
import type { Runtime } from '../runtime/runtime.js';
import type { StorageRef } from '../runtime/memory.js';
import { Tensor } from '../tensor/tensor.js';
import type { Node } from './node.js';

/** Called once per tensor saved for backward; returns what the graph keeps instead (any value). */
export type PackHook<H = unknown> = (tensor: Tensor) => H;
/** Called each time a gradient formula needs the saved tensor; returns it from the handle. */
export type UnpackHook<H = unknown> = (handle: H) => Tensor;

export interface SavedTensorsHooksOptions<H = unknown> {
  /**
   * Called once when the graph lets go of a handle (after the backward that used it, without
   * `retainGraph`): dispose what `pack` made here. Without it, such tensors are left to the
   * garbage collector.
   */
  release?: ((handle: H) => void) | null;
}

/** The hook pair in force (see {@link currentSavedTensorsHooks}). */
export interface SavedTensorsHooks<H = unknown> {
  readonly pack: PackHook<H>;
  readonly unpack: UnpackHook<H>;
  readonly release: ((handle: H) => void) | null;
}

function checkSync(result: unknown, op: string): void {
  if (result !== null && typeof result === 'object' && typeof (result as { then?: unknown }).then === 'function') {
    throw new NablaError(
      `${op} cannot run an async function (ops after an await would run without the hooks); await first, then run the synchronous part inside`,
      { op },
    );
  }
}

function runWith<T>(rt: Runtime, hooks: SavedTensorsHooks | null, fn: () => T, op: string): T {
  if (typeof fn !== 'function') throw new NablaError(`${op} expects a function to run, got ${typeof fn}`, { op });
  const outer = rt._savedHooks;
  rt._savedHooks = hooks;
  let result: T;
  try {
    result = fn();
  } finally {
    rt._savedHooks = outer;
  }
  checkSync(result, op);
  return result;
}

/**
 * Runs the synchronous `fn` so that every tensor saved for backward meanwhile is packed by `pack`
 * and unpacked by `unpack` (PyTorch's `saved_tensors_hooks`). Pairs nest: the innermost one is used.
 *
 * - `pack(t)` runs once per saved tensor, with grad mode off and no `tidy` collecting: what it
 *   makes outlives the step that saved it (dispose it in `opts.release`). It must not modify `t`
 *   in place. If it returns `t` itself, the graph keeps `t` as it would without hooks.
 * - `unpack(handle)` runs each time a gradient formula reads the saved tensor, as part of that
 *   formula: tensors it makes are freed when the node that asked has run (make what must outlive
 *   it inside `nabla.outsideTidy`). It must return a tensor with the saved shape, dtype and device,
 *   or backward throws a `NablaError` naming the node. After it returns, the saved tensor's version
 *   counter is checked as without hooks (an in-place change since the save is an error).
 *
 * @example
 * const log: string[] = [];
 * const y = nabla.autograd.graph.savedTensorsHooks(
 *   (t) => { log.push(`pack ${t.shape}`); return t.to('cpu'); },  // keep a host copy
 *   (h) => h.to('cpu'),                                            // bring it back
 *   () => x.mul(x).sum(),
 * );
 * y.backward();   // x.grad = 2x, computed from the unpacked copies
 */
export function savedTensorsHooks<H, T>(rt: Runtime, pack: PackHook<H>, unpack: UnpackHook<H>, fn: () => T, opts: SavedTensorsHooksOptions<H> = {}): T {
  const op = 'savedTensorsHooks';
  if (typeof pack !== 'function' || typeof unpack !== 'function') {
    throw new NablaError(`pack and unpack must be functions (got ${typeof pack} and ${typeof unpack})`, { op });
  }
  const release = opts?.release ?? null;
  if (release !== null && typeof release !== 'function') throw new NablaError(`opts.release must be a function (got ${typeof release})`, { op });
  return runWith(rt, { pack, unpack, release } as SavedTensorsHooks, fn, op);
}

/**
 * The hook pair that a tensor saved now would go through, or null when none is in force. Lets a
 * library (checkpointing) see whether an enclosing scope installed hooks.
 *
 * @example
 * nabla.autograd.graph.currentSavedTensorsHooks();                      // null
 * nabla.autograd.graph.savedTensorsHooks(pack, unpack, () =>
 *   nabla.autograd.graph.currentSavedTensorsHooks()!.pack === pack);   // true
 */
export function currentSavedTensorsHooks(rt: Runtime): SavedTensorsHooks | null {
  return rt._savedHooks;
}

/**
 * Runs the synchronous `fn` with the hooks of enclosing scopes switched off: tensors saved inside
 * are kept by the graph as usual. Hooks installed inside `fn` apply again. Checkpointing uses it to
 * recompute a segment without handing its tensors to an outer pair.
 *
 * @example
 * nabla.autograd.graph.savedTensorsHooks(pack, unpack, () => {
 *   const a = x.exp();                                                  // packed
 *   const b = nabla.autograd.graph.withoutSavedTensorsHooks(() => x.exp()); // saved as usual
 * });
 */
export function withoutSavedTensorsHooks<T>(rt: Runtime, fn: () => T): T {
  return runWith(rt, null, fn, 'withoutSavedTensorsHooks');
}

/** @internal What the graph keeps of a tensor a hook packed: the handle and the metadata. */
export interface Packed {
  readonly hooks: SavedTensorsHooks;
  readonly handle: unknown;
  /** The original when `pack` returned it unchanged (then pinned, as without hooks). */
  readonly pinned: Tensor | null;
  /** The saved tensor's version counter (a JS object: holding it keeps no device memory). */
  readonly counter: StorageRef;
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly device: string;
  /** Its place in the graph: producer and output number; -1 marks an output of the saving node. */
  readonly gradFn: Node | null;
  readonly outputNr: number;
  readonly requiresGrad: boolean;
  readonly accNode: Node | null;
}

/**
 * @internal Packs `t` (saved by `op`); `outputNr >= 0` when `t` is that output of the node being
 * recorded (its gradFn is not set yet; at unpack it is the node).
 */
export function packSaved(hooks: SavedTensorsHooks, t: Tensor, op: string, outputNr: number): Packed {
  const rt = t.rt;
  const version = t._ref.version;
  const collecting = rt._created;
  rt._created = null;
  let handle: unknown;
  try {
    handle = rt.gradMode.run(false, rt.gradMode.inference, () => hooks.pack(t));
  } finally {
    rt._created = collecting;
  }
  if (t._ref.version !== version) {
    throw new NablaError(
      'A saved tensor pack hook is modifying its input in place. Tensors provided as input to pack hook can not be modified by in-place operations as this can lead to unexpected side-effects.',
      { op },
    );
  }
  checkSync(handle, 'savedTensorsHooks pack');
  const pinned = handle === t ? t : null;
  if (pinned !== null) t._pin();
  const isOutput = outputNr >= 0;
  return {
    hooks,
    handle,
    pinned,
    counter: t._ref,
    shape: t.shape,
    dtype: t.dtype,
    device: t.device,
    gradFn: isOutput ? null : t._gradFn,
    outputNr: isOutput ? -1 - outputNr : t._outputNr,
    requiresGrad: isOutput ? false : t._requiresGrad,
    accNode: isOutput ? null : t._accNode,
  };
}

const describe = (shape: readonly number[], dtype: string, device: string): string => `shape ${fmtShape(shape)}, dtype ${dtype}, device ${device}`;

/**
 * @internal Unpacks a saved tensor for `node`'s formula: calls `unpack`, checks what it returned
 * and gives it the original's autograd identity (a fresh alias when it is another tensor).
 */
export function unpackPacked(p: Packed, node: Node): Tensor {
  const op = node.name();
  const u: unknown = p.hooks.unpack(p.handle);
  if (!(u instanceof Tensor)) {
    throw new NablaError(`the unpack hook of savedTensorsHooks must return a Tensor, got ${u === null ? 'null' : typeof u}`, { op });
  }
  if (u._disposed && u !== p.pinned) {
    throw new NablaError(`the unpack hook of savedTensorsHooks returned a disposed tensor (${describe(u.shape, u.dtype, u.device)})`, { op });
  }
  const sameShape = u.shape.length === p.shape.length && u.shape.every((s, i) => s === p.shape[i]);
  if (!sameShape || u.dtype !== p.dtype || u.device !== p.device) {
    throw new NablaError(
      `the unpack hook of savedTensorsHooks returned a tensor of ${describe(u.shape, u.dtype, u.device)}, ` +
        `but the tensor saved for backward had ${describe(p.shape, p.dtype, p.device)}; unpack must return a tensor with the saved shape, dtype and device`,
      { op },
    );
  }
  const gradFn = p.outputNr < 0 ? node : p.gradFn;
  const outputNr = p.outputNr < 0 ? -1 - p.outputNr : p.outputNr;
  if (!u._disposed && u._gradFn === gradFn && u._outputNr === outputNr && u._requiresGrad === p.requiresGrad && u._accNode === p.accNode) return u;
  u._ref.retain();
  const a = new Tensor(u.rt, u._ref, u.shape, u._strides, u._offset, u.dtype);
  a._gradFn = gradFn;
  a._outputNr = outputNr;
  a._requiresGrad = p.requiresGrad;
  a._accNode = p.accNode;
  return a;
}

/** @internal The graph lets go of a packed tensor. */
export function releasePacked(p: Packed): void {
  if (p.pinned !== null) p.pinned._unpin();
  p.hooks.release?.(p.handle);
}
