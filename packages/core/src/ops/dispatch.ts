/**
 * How an op runs: check operands, promote dtypes, broadcast, allocate the output on the operands'
 * device, run the backend's kernel, and — when grad mode is on and an input requires grad —
 * record a graph node. Every op goes through the helpers here; none of them reads tensor values,
 * so asynchronous backends work unchanged.
 */
import type { Backend, KernelName, StructuredKernel, View } from '../backend/types.js';
import { resultType, type DType, type PromotionOperand } from '../dtype.js';
import { NablaError, fmtShape } from '../errors.js';
import { gradNode, gradNr } from '../autograd/edges.js';
import { saveTensor, type TensorMeta } from '../autograd/node.js';
import { OpNode, type GradFormula } from '../autograd/op-node.js';
import type { Runtime } from '../runtime/runtime.js';
import { contiguousStrides, numelOf } from '../shape.js';
import { launch } from './deferred.js';
import { dispatchHooked, offerKernel } from './dispatch-seam.js';
import { Tensor } from '../tensor/tensor.js';

/** What ops accept where a tensor goes: a tensor, or a JS number/boolean (PyTorch's scalars). */
export type Operand = Tensor | number | boolean;

export function isTensor(x: unknown): x is Tensor {
  return x instanceof Tensor;
}

/** A fresh contiguous tensor on `device` (contents unspecified until a kernel writes it). */
export function empty(rt: Runtime, device: string, dtype: DType, shape: readonly number[], op?: string): Tensor {
  const backend = rt.checkDType(device, dtype, op);
  return emptyOn(rt, backend, dtype, shape);
}

export function emptyOn(rt: Runtime, backend: Backend, dtype: DType, shape: readonly number[]): Tensor {
  let storage;
  try {
    storage = backend.allocate(dtype, numelOf(shape));
  } catch (e) {
    if (e instanceof NablaError) throw e;
    throw new NablaError(`cannot allocate ${dtype} ${fmtShape(shape)} on device ${backend.device}: ${(e as Error).message}`, { op: 'allocate', cause: e });
  }
  const ref = rt.memoryTracker.allocate(backend, storage);
  return new Tensor(rt, ref, shape, shape.length === 0 ? NO_STRIDES : contiguousStrides(shape), 0, dtype);
}

/** A 0-d tensor's strides (tensors never write their strides, so every 0-d tensor shares these). */
const NO_STRIDES: readonly number[] = Object.freeze([]);

/** Zeros of `shape` on `like`'s device with its dtype (unless given). */
export function zerosOf(like: Tensor, shape: readonly number[], dtype: DType = like.dtype): Tensor {
  const z = emptyOn(like.rt, like._ref.backend, dtype, shape);
  return z.zero_();
}

/** A tensor sharing `src`'s storage with other geometry (views, detach). No autograd. */
export function alias(src: Tensor, shape: readonly number[], strides: readonly number[], offset: number): Tensor {
  src._ref.retain();
  return new Tensor(src.rt, src._ref, shape, strides, offset, src.dtype);
}

/** Checks every tensor operand is alive, on one runtime and one device; returns the first tensor. */
export function firstTensor(op: string, operands: readonly Operand[]): Tensor {
  let first: Tensor | null = null;
  for (let i = 0; i < operands.length; i++) {
    const o = operands[i];
    if (o instanceof Tensor) {
      o._alive(op);
      if (first === null) first = o;
      else if (o.device !== first.device || o.rt !== first.rt) {
        throw new NablaError(
          `Expected all tensors to be on the same device, but found at least two devices, ${first.device} and ${o.device}` +
            (o.rt !== first.rt && o.device === first.device ? ` (tensors of two different runtimes: ${first.rt.label} and ${o.rt.label})` : '') +
            `. Move one with .to(device) first; Nabla never copies implicitly.`,
          { op },
        );
      }
    } else if (typeof o !== 'number' && typeof o !== 'boolean') {
      throw new NablaError(`expected a Tensor or a number for argument ${i}, got ${describe(o)}`, { op });
    }
  }
  if (first === null) throw new NablaError('expected at least one Tensor argument', { op });
  return first;
}

export function describe(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'an array';
  return typeof x;
}

/** PyTorch's result type of mixed operands (dims > 0-d tensors > JS numbers). */
export function promote(operands: readonly Operand[]): DType {
  // Fast path: tensors of one dtype with JS-number operands that cannot lift the kind.
  let dt: DType | null = null;
  let simple = true;
  for (const o of operands) {
    if (o instanceof Tensor) {
      if (dt === null) dt = o.dtype;
      else if (dt !== o.dtype) simple = false;
    }
  }
  if (simple && dt !== null) {
    let ok = true;
    for (const o of operands) {
      if (o instanceof Tensor) continue;
      if (typeof o === 'boolean') continue;
      if (dt === 'bool' || (dt === 'int32' && !Number.isInteger(o))) ok = false;
    }
    if (ok) return dt;
  }
  const po: PromotionOperand[] = operands.map((o) =>
    o instanceof Tensor
      ? { dtype: o.dtype, category: o.shape.length === 0 ? 1 : 0 }
      : { dtype: typeof o === 'boolean' ? 'bool' : Number.isInteger(o) ? 'int32' : 'float32', category: 2 },
  );
  return resultType(po);
}

/** The view a kernel sees of `t`, broadcast to `shape`. */
export function broadcastView(t: Tensor, shape: readonly number[]): View {
  const s = t.shape;
  if (s === shape || sameDims(s, shape)) return t._view();
  const n = shape.length;
  const off = n - s.length;
  const strides = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    strides[i] = i < off ? 0 : s[i - off] === 1 && shape[i] !== 1 ? 0 : t.strides[i - off]!;
  }
  return { storage: t.storage, dtype: t.dtype, shape, strides, offset: t.offset };
}

/** Equal shapes, without a closure per call (this runs per operand of every op). */
function sameDims(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A structured kernel of the tensor's device, or an error naming what is missing. */
export function kernel<K extends KernelName>(name: K, t: Tensor, dtype: DType = t.dtype, op: string = name): StructuredKernel<K> {
  const k = t.rt.kernels.get(name, t.device, dtype);
  if (k === undefined) {
    throw new NablaError(`device '${t.device}' has no '${name}' kernel for dtype ${dtype}`, { op });
  }
  return k;
}

/**
 * Runs structured kernel `name` of `t`'s device, which reads `reads` and writes `writes` (queued
 * when some of that data is still arriving; see deferred.ts).
 */
export function runKernel<K extends KernelName>(
  name: K,
  t: Tensor,
  op: string,
  io: { reads: readonly Tensor[]; writes: readonly Tensor[] },
  run: (k: StructuredKernel<K>) => void,
  dtype?: DType,
): void {
  const k = kernel(name, t, dtype ?? t.dtype, op);
  const events = t.rt.events;
  if (events.watching['op:dispatch']) events.emit('op:dispatch', { op, device: t.device, shapes: [t.shape] });
  if (dispatchHooked() && offerKernel(t.rt, op, name, io.reads, io.writes)) return;
  launch(t.rt, io.reads, io.writes, () => {
    try {
      run(k);
    } catch (e) {
      if (e instanceof NablaError) throw e;
      // Backends prefix their messages with the kernel name; NablaError adds the op once.
      const msg = (e as Error).message.replace(new RegExp(`^${name}: `), '');
      throw new NablaError(`${msg} (device ${t.device}, kernel ${name})`, { op, cause: e });
    }
  });
}

// ---- autograd recording

/** Whether an op on these operands must record a node. */
export function needsGrad(rt: Runtime, operands: readonly Operand[]): boolean {
  if (!rt.gradMode.enabled) return false;
  for (let i = 0; i < operands.length; i++) {
    const o = operands[i];
    if (o instanceof Tensor && (o._requiresGrad || o._gradFn !== null)) return true;
  }
  return false;
}

export function metaOf(t: Tensor): TensorMeta {
  return { shape: t.shape, dtype: t.dtype, device: t.device };
}

/**
 * `[metaOf(t)]`, shared with the last node that recorded an output of the same shape array, dtype
 * and device (metadata is immutable, and results of a chain share their operand's shape array):
 * one-output nodes are the most common, and this saves two objects per op.
 */
let lastOutMeta: readonly TensorMeta[] = [{ shape: [], dtype: 'float32', device: '' }];
function outMetaOf(t: Tensor): readonly TensorMeta[] {
  const m = lastOutMeta[0]!;
  if (m.shape === t.shape && m.dtype === t.dtype && m.device === t.device) return lastOutMeta;
  return (lastOutMeta = Object.freeze([Object.freeze(metaOf(t))]));
}

export interface RecordOptions<A> {
  /** Which inputs to save for backward: all tensor inputs (true) or a mask. */
  saveInputs?: boolean | readonly boolean[];
  /** Save the outputs too (formulas of tanh, exp, softmax reuse them). */
  saveOutputs?: boolean;
  attrs?: A;
}

/**
 * Makes `outputs` results of a node that computes the inputs' gradients with `formula`. Call
 * only when `needsGrad` said so. JS numbers among the inputs get no edge (PyTorch shows `None`).
 */
export function record<A>(formula: GradFormula<A>, inputs: readonly Operand[], outputs: readonly Tensor[], opts: RecordOptions<A> = {}): OpNode<A> {
  const n = inputs.length;
  const save = opts.saveInputs ?? false;
  const slots = save !== false ? (opts.saveOutputs ? n + outputs.length : n) : null;
  const node = new OpNode<A>(formula, n, outputs.map(metaOf), slots, opts.attrs as A);
  for (let i = 0; i < n; i++) linkInput(node, i, inputs[i]!, save, formula.name);
  if (opts.saveOutputs) node._saveOutputs(outputs.map((t, i) => saveTensor(t, formula.name, i)));
  const rt = outputs[0]!.rt;
  if (rt.gradMode.anomaly) node.stack = new Error(`forward of ${formula.name}`).stack ?? null;
  for (let i = 0; i < outputs.length; i++) {
    outputs[i]!._gradFn = node;
    outputs[i]!._outputNr = i;
  }
  return node;
}

/** `record` for the common case of one output (elementwise ops): fewer allocations per op. */
export function recordOne<A>(
  formula: GradFormula<A>,
  inputs: readonly Operand[],
  output: Tensor,
  saveInputs: boolean | readonly boolean[],
  saveOutput: boolean,
  attrs: A,
): OpNode<A> {
  const n = inputs.length;
  const node = oneOutputNode(formula, n, output, saveInputs, saveOutput, attrs);
  for (let i = 0; i < n; i++) linkInput(node, i, inputs[i]!, saveInputs, formula.name);
  return finishOne(node, output, saveOutput, formula.name);
}

/**
 * `recordOne` of a one- or two-operand op with the operands as arguments (`b` undefined: one):
 * the scalar paths' unary and binary ops, which then need no operands array.
 */
export function recordFew<A>(
  formula: GradFormula<A>,
  a: Operand,
  b: Operand | undefined,
  output: Tensor,
  saveInputs: boolean | readonly boolean[],
  saveOutput: boolean,
  attrs: A,
): OpNode<A> {
  const node = oneOutputNode(formula, b === undefined ? 1 : 2, output, saveInputs, saveOutput, attrs);
  linkInput(node, 0, a, saveInputs, formula.name);
  if (b !== undefined) linkInput(node, 1, b, saveInputs, formula.name);
  return finishOne(node, output, saveOutput, formula.name);
}

function oneOutputNode<A>(formula: GradFormula<A>, n: number, output: Tensor, saveInputs: boolean | readonly boolean[], saveOutput: boolean, attrs: A): OpNode<A> {
  // Room for the saved output after the input slots.
  return new OpNode<A>(formula, n, outMetaOf(output), saveInputs !== false ? (saveOutput ? n + 1 : n) : null, attrs);
}

/** Input `i` of a node being recorded: its edge, and its slot when inputs are saved. */
function linkInput<A>(node: OpNode<A>, i: number, o: Operand, saveInputs: boolean | readonly boolean[], name: string): void {
  if (o instanceof Tensor) {
    const child = gradNode(o);
    if (child !== null) node._setEdge(i, child, gradNr(o));
    if (saveInputs !== false) node._setSlot(i, saveInputs === true || (saveInputs as readonly boolean[])[i] ? saveTensor(o, name) : null);
  } else if (saveInputs !== false) node._setSlot(i, typeof o === 'boolean' ? Number(o) : (o as number));
}

function finishOne<A>(node: OpNode<A>, output: Tensor, saveOutput: boolean, name: string): OpNode<A> {
  if (saveOutput) node._saveOutput(saveTensor(output, name, 0));
  if (output.rt.gradMode.anomaly) node.stack = new Error(`forward of ${name}`).stack ?? null;
  output._gradFn = node;
  output._outputNr = 0;
  return node;
}

/** A formula object from a name and a backward function (keeps op files terse). */
export function grad<A = undefined>(name: string, backward: GradFormula<A>['backward']): GradFormula<A> {
  return { name, backward };
}

/** The error for shapes that cannot work together. */
export function shapeError(op: string, what: string, ...shapes: (readonly number[])[]): NablaError {
  return new NablaError(`${what} (got ${shapes.map(fmtShape).join(' and ')})`, { op });
}
