/**
 * Elementwise ops are data: a name, an expression (compiled by each backend), a dtype rule and a
 * gradient written with differentiable ops. `runElementwise` executes any of them, core's or a
 * plugin's, on any backend. JS-number operands become kernel parameters, so `x.mul(2)` and
 * `x.mul(3)` share one compiled kernel.
 */
import type { Backend, ElementwiseKernel, ElementwiseSpec, View } from '../../backend/types.js';
import type { KernelRegistry } from '../../runtime/registries.js';
import type { Runtime } from '../../runtime/runtime.js';
import { isFloating, toFloating, type DType } from '../../dtype.js';
import { NablaError } from '../../errors.js';
import type { MaybeGrad } from '../../autograd/node.js';
import type { GradFormula, OpNode } from '../../autograd/op-node.js';
import { exprToString, isBinary, isUnary, type Expr } from '../../expr/ir.js';
import { broadcastShapes } from '../../shape.js';
import { Tensor } from '../../tensor/tensor.js';
import { launch } from '../deferred.js';
import { dispatchHooked, offerKernel } from '../dispatch-seam.js';
import { AMP, castOperands } from '../../amp/state.js';
import { broadcastView, emptyOn, firstTensor, needsGrad, promote, recordFew, recordOne, type Operand } from '../dispatch.js';

/** How the output dtype follows from the promoted input dtype. */
export type DTypeRule = 'promote' | 'float' | 'bool' | 'first';

export interface ElementwiseAttrs {
  /** The op's scalar parameters (clamp's bounds, leakyRelu's slope, ...). */
  readonly params: readonly number[];
}

export interface ElementwiseGrad {
  /** PyTorch's node name. */
  readonly name: string;
  /**
   * PyTorch's node name when it depends on which operands are JS numbers (bit i set: operand i is
   * a number), as `pow`: PowBackward0 (tensor ** number), PowBackward1 (tensor ** tensor),
   * PowBackward2 (number ** tensor). Absent or undefined for a mask: `name`.
   */
  readonly nameFor?: (numberMask: number) => string | undefined;
  /** What backward needs: the inputs, the output, both, or nothing. */
  readonly save: 'inputs' | 'output' | 'both' | 'none';
  /**
   * With `save` of the inputs: which operands the gradient of each operand reads (`mul`: the
   * gradient of a reads b and that of b reads a). An operand is then saved only if the gradient of
   * an operand that requires grad reads it, as PyTorch saves `other` for `self * other` only when
   * `self` requires grad. Absent: every tensor operand is saved.
   */
  readonly uses?: readonly (readonly number[])[];
  /** Gradients w.r.t. each operand, from the output's gradient `g`. Broadcasting is undone by the engine. */
  backward(g: Tensor, node: OpNode<ElementwiseAttrs>): MaybeGrad[];
}

export interface ElementwiseOpDef {
  readonly kind: 'elementwise';
  /** Method/function name (`mul`, `silu`). */
  readonly name: string;
  /** Number of tensor-or-number operands. */
  readonly arity: number;
  /** Number of scalar parameters after the operands. */
  readonly numParams: number;
  /** Over `input(0..arity-1)` and `param(0..numParams-1)`. */
  readonly expr: Expr;
  readonly dtype: DTypeRule;
  /** Float inputs only (PyTorch refuses e.g. `sigmoid` of nothing; most ops promote ints instead). */
  readonly floatOnly?: boolean;
  /**
   * PyTorch refuses bool tensor operands (`-b`, `b - b`, `b.abs()`): the message, given how many
   * tensor operands are bool and whether every tensor operand is.
   */
  readonly boolError?: (bools: number, allBool: boolean) => string;
  /** Absent: the op is not differentiable (comparisons, rounding gives zeros through `zeroGrad`). */
  readonly grad?: ElementwiseGrad;
}

export function defineElementwise(def: Omit<ElementwiseOpDef, 'kind' | 'numParams' | 'dtype'> & { numParams?: number; dtype?: DTypeRule }): ElementwiseOpDef {
  const d: ElementwiseOpDef & WithCache = { kind: 'elementwise', numParams: 0, dtype: 'promote', ...def };
  Object.defineProperty(d, SPEC_CACHE, { value: newSpecCache(), enumerable: false });
  return d;
}

const DT_CODE: Record<DType, string> = { float32: 'f', float64: 'd', int32: 'i', bool: 'b', float16: 'h', bfloat16: 'B' };
const DT_NUM: Record<DType, number> = { float32: 0, float64: 1, int32: 2, bool: 3, float16: 4, bfloat16: 5 };

/** The kernel a spec last resolved to, for one registry generation and backend. */
interface KernelMemo {
  readonly registry: KernelRegistry;
  readonly generation: number;
  readonly backend: Backend;
  readonly kernel: ElementwiseKernel;
}

/** A spec as core makes them: one object per (op, operand kinds, dtypes), with a kernel memo. */
type CachedSpec = ElementwiseSpec & { memo: KernelMemo | null };

interface SpecCache {
  /** By an integer packing of (number mask, input dtypes, out dtype, compute dtype). */
  specs: Map<number | string, CachedSpec>;
  /** Expression with the number operands of a mask turned into parameters. */
  exprs: Map<number, Expr>;
  /** The scalar paths' memo, by number mask (kept here: a WeakMap lookup per op cost a tenth of the path). */
  scalar: (ScalarMemo | undefined)[];
}

function newSpecCache(): SpecCache {
  return { specs: new Map(), exprs: new Map(), scalar: [] };
}
// Most defs come from defineElementwise and carry their cache; a WeakMap serves the others.
const SPEC_CACHE = Symbol('nabla.specCache');
type WithCache = { [SPEC_CACHE]?: SpecCache };
const caches = new WeakMap<ElementwiseOpDef, SpecCache>();

function cacheOf(def: ElementwiseOpDef): SpecCache {
  const own = (def as WithCache)[SPEC_CACHE];
  if (own !== undefined) return own;
  let c = caches.get(def);
  if (!c) caches.set(def, (c = newSpecCache()));
  return c;
}

/**
 * The key of a combination within one op: the number mask (one bit per operand), then the count
 * of tensor operands, the out and compute dtypes and 3 bits per tensor dtype. It fits a 31-bit
 * integer while arity + 3 · tensors ≤ 21 (ints hash fastest); wider ops get a string.
 */
function specKey(arity: number, numberMask: number, tensorDtypes: number, nTensors: number, outDtype: DType, computeDtype: DType): number | string {
  if (arity + 3 * nTensors > 21) return `${numberMask}:${nTensors}:${outDtype}:${computeDtype}:${tensorDtypes}`;
  return numberMask | ((nTensors | (DT_NUM[outDtype] << 4) | (DT_NUM[computeDtype] << 7) | (tensorDtypes << 10)) << arity);
}

/** Rewrites input references: tensor operands are renumbered, number operands become params. */
function substitute(expr: Expr, mapping: readonly Expr[]): Expr {
  const memo = new Map<Expr, Expr>();
  const go = (e: Expr): Expr => {
    const hit = memo.get(e);
    if (hit) return hit;
    let r: Expr;
    if (e.op === 'input') r = mapping[e.index]!;
    else if (e.op === 'param' || e.op === 'const') r = e;
    else if (e.op === 'where') r = { op: 'where', cond: go(e.cond), a: go(e.a), b: go(e.b) };
    else if (isUnary(e)) r = { op: e.op, a: go(e.a) };
    else if (isBinary(e)) r = { op: e.op, a: go(e.a), b: go(e.b) };
    else throw new Error(`unknown expression node ${(e as Expr).op}`);
    memo.set(e, r);
    return r;
  };
  return go(expr);
}

/** The kernel spec for one combination of operand kinds and dtypes. */
export function specFor(def: ElementwiseOpDef, numberMask: number, inDtypes: readonly DType[], outDtype: DType, computeDtype: DType): ElementwiseSpec {
  let packed = 0;
  for (let i = 0; i < inDtypes.length; i++) packed = packed * 8 + DT_NUM[inDtypes[i]!];
  return cachedSpec(def, numberMask, packed, inDtypes.length, outDtype, computeDtype, copyDtypes, inDtypes);
}

function cachedSpec<S>(
  def: ElementwiseOpDef,
  numberMask: number,
  packed: number,
  nTensors: number,
  outDtype: DType,
  computeDtype: DType,
  // The input dtypes, computed only on a cache miss (a function and its source, not a closure).
  inDtypes: (src: S) => DType[],
  src: S,
): CachedSpec {
  const cache = cacheOf(def);
  const num = specKey(def.arity, numberMask, packed, nTensors, outDtype, computeDtype);
  let spec = cache.specs.get(num);
  if (spec === undefined) {
    const dts = inDtypes(src);
    let key = `${numberMask}:`;
    for (const d of dts) key += DT_CODE[d];
    key += DT_CODE[outDtype] + DT_CODE[computeDtype];
    let expr = cache.exprs.get(numberMask);
    if (expr === undefined) {
      const mapping: Expr[] = [];
      let ti = 0;
      let pi = def.numParams;
      for (let i = 0; i < def.arity; i++) {
        mapping.push(numberMask & (1 << i) ? { op: 'param', index: pi++ } : { op: 'input', index: ti++ });
      }
      expr = numberMask === 0 ? def.expr : substitute(def.expr, mapping);
      cache.exprs.set(numberMask, expr);
    }
    let numbers = 0;
    for (let i = 0; i < def.arity; i++) if (numberMask & (1 << i)) numbers++;
    spec = {
      name: def.name,
      expr,
      inputDtypes: dts,
      outDtype,
      computeDtype,
      numParams: def.numParams + numbers,
      key: `${def.name}|${key}|${exprToString(expr)}`,
      memo: null,
    };
    cache.specs.set(num, spec);
  }
  return spec;
}

/** The backend's kernel for `spec`, remembered on the spec until the registry changes. */
function kernelFor(rt: Runtime, backend: Backend, spec: CachedSpec, outDtype: DType): ElementwiseKernel {
  const m = spec.memo;
  const registry = rt.kernels;
  if (m !== null && m.registry === registry && m.backend === backend && m.generation === registry.generation) return m.kernel;
  const kernel = registry.elementwise(backend, spec, outDtype);
  spec.memo = { registry, generation: registry.generation, backend, kernel };
  return kernel;
}

const NO_PARAMS: readonly number[] = [];
const NO_ATTRS: ElementwiseAttrs = Object.freeze({ params: NO_PARAMS });

const formulas = new WeakMap<ElementwiseGrad, GradFormula<ElementwiseAttrs>>();
const namedFormulas = new WeakMap<ElementwiseGrad, Map<number, GradFormula<ElementwiseAttrs>>>();
/** The graph-node formula of an elementwise gradient (made once per op, or per operand kinds). */
function formulaOf(g: ElementwiseGrad, numberMask: number): GradFormula<ElementwiseAttrs> {
  if (g.nameFor !== undefined) {
    let byMask = namedFormulas.get(g);
    if (!byMask) namedFormulas.set(g, (byMask = new Map()));
    let f = byMask.get(numberMask);
    if (!f) {
      f = { name: g.nameFor(numberMask) ?? g.name, backward: (gs, node) => g.backward(gs[0]!, node) };
      byMask.set(numberMask, f);
    }
    return f;
  }
  let f = formulas.get(g);
  if (!f) {
    f = { name: g.name, backward: (gs, node) => g.backward(gs[0]!, node) };
    formulas.set(g, f);
  }
  return f;
}

export function outDtypeOf(def: ElementwiseOpDef, promoted: DType): DType {
  return def.dtype === 'bool' ? 'bool' : def.dtype === 'float' ? toFloating(promoted) : promoted;
}

function checkBool(def: ElementwiseOpDef, operands: readonly Operand[]): void {
  let bools = 0;
  let tensors = 0;
  for (const o of operands) {
    if (o instanceof Tensor) {
      tensors++;
      if (o.dtype === 'bool') bools++;
    }
  }
  if (bools > 0) throw new NablaError(def.boolError!(bools, bools === tensors && operands.length > 1 && tensors === operands.length), { op: def.name });
}

/**
 * Runs `def` on `operands`, writing into `out` if given (in-place ops; `out` must already have the
 * broadcast shape), else into a new tensor. Records the gradient node when needed.
 */
export function runElementwise(def: ElementwiseOpDef, operands: readonly Operand[], params: readonly number[] = NO_PARAMS, out?: Tensor): Tensor {
  if (out === undefined) {
    const fast = runScalarElementwise(def, operands, params);
    if (fast !== null) return fast;
  } else if (runScalarElementwiseInto(def, operands, params, out)) {
    return out;
  }
  return runElementwiseGeneral(def, operands, params, out);
}

/** `runElementwise` for any operands: checks, promotion, broadcasting, queued launches, hooks. */
export function runElementwiseGeneral(def: ElementwiseOpDef, operands: readonly Operand[], params: readonly number[] = NO_PARAMS, out?: Tensor): Tensor {
  const first = firstTensor(def.name, operands);
  // Autocast's seam: listed ops (exp, pow, ... on GPU devices) get their operands cast first.
  if (AMP.active && out === undefined) {
    const cast = castOperands(def.name, operands);
    if (cast !== operands) return runElementwise(def, cast, params);
  }
  const rt = first.rt;
  if (def.arity !== operands.length) {
    throw new NablaError(`expects ${def.arity} operand(s), got ${operands.length}`, { op: def.name });
  }
  if (def.boolError !== undefined) checkBool(def, operands);
  const promoted = promote(operands);
  if (def.floatOnly && !isFloating(promoted)) {
    throw new NablaError(`expects floating point inputs, got ${promoted}`, { op: def.name });
  }
  const outDtype = out ? out.dtype : def.dtype === 'first' ? (operands[0] as Tensor).dtype : outDtypeOf(def, promoted);
  const computeDtype = def.dtype === 'float' ? toFloating(promoted) : promoted;

  // Broadcast shape, which operands are JS numbers, and the tensor operands' dtypes (packed).
  let shape: readonly number[] = first.shape;
  let numberMask = 0;
  let packed = 0;
  let nTensors = 0;
  let allParams: number[] | null = null;
  // Whether the kernel must be queued (deferred.ts), checked inline: this is the hottest path.
  let waits = out !== undefined && (out._ref.pending !== null || out._ref.lastRead !== null);
  for (let i = 0; i < operands.length; i++) {
    const o = operands[i]!;
    if (typeof o === 'number' || typeof o === 'boolean') {
      numberMask |= 1 << i;
    } else {
      if (o._ref.pending !== null) waits = true;
      if (o !== first) shape = broadcastShapes(shape, o.shape, def.name);
      packed = packed * 8 + DT_NUM[o.dtype];
      nTensors++;
    }
  }
  if (numberMask !== 0) {
    // The op's params, then its number operands (sized up front, as `views` below).
    allParams = new Array<number>(params.length + operands.length - nTensors);
    let k = 0;
    for (; k < params.length; k++) allParams[k] = params[k]!;
    for (let i = 0; i < operands.length; i++) if (numberMask & (1 << i)) allParams[k++] = Number(operands[i]);
  }
  const backend = first._ref.backend;
  if (!backend.dtypes.includes(outDtype)) rt.checkDType(first.device, outDtype, def.name);

  const spec = cachedSpec(def, numberMask, packed, nTensors, outDtype, computeDtype, tensorDtypes, operands);
  const kernelFn = kernelFor(rt, backend, spec, outDtype);

  const result = out ?? emptyOn(rt, backend, outDtype, shape);
  // Sized up front: `[]` grows to 17 slots on its first push, most of an op's garbage.
  const views = new Array<View>(nTensors);
  for (let i = 0, k = 0; i < operands.length; i++) {
    const o = operands[i]!;
    if (typeof o !== 'number' && typeof o !== 'boolean') views[k++] = broadcastView(o, result.shape);
  }
  if (rt.events.watching['op:dispatch']) {
    rt.events.emit('op:dispatch', { op: def.name, device: first.device, shapes: operands.map((o) => (typeof o === 'object' ? o.shape : [])) });
  }
  const kernelArgs = allParams ?? params;
  let answered = false;
  if (dispatchHooked()) {
    try {
      answered = offerKernel(rt, def.name, 'elementwise', operands.filter((o): o is Tensor => o instanceof Tensor), [result]);
    } catch (e) {
      if (!out) result.dispose();
      throw e;
    }
  }
  if (answered) {
    // A dispatch hook answered: result holds a copy of its answer (dispatch-hooks.ts).
  } else if (!waits) {
    runKernel(def, kernelFn, result, views, kernelArgs, out === undefined);
  } else {
    launchQueued(rt, def, operands, result, views, kernelFn, kernelArgs);
  }

  if (out === undefined && def.grad && needsGrad(rt, operands)) recordElementwise(def.grad, operands, result, params, numberMask);
  return result;
}

/**
 * Queues the kernel behind data still arriving from another device. A function of its own: a
 * closure in `runElementwise` would make every call allocate a context for what it captures.
 */
function launchQueued(
  rt: Runtime,
  def: ElementwiseOpDef,
  operands: readonly Operand[],
  result: Tensor,
  views: View[],
  kernelFn: ElementwiseKernel,
  kernelArgs: readonly number[],
): void {
  const reads = operands.filter((o): o is Tensor => o instanceof Tensor);
  launch(rt, reads, [result], () => runKernel(def, kernelFn, result, views, kernelArgs, false));
}

/**
 * Runs `kernelFn` into `target`, naming the op and the device when it throws. A `fresh` target
 * (made for this call) is disposed first, so a failed op leaves nothing allocated; an `out` the
 * caller passed is left as it is.
 */
function runKernel(def: ElementwiseOpDef, kernelFn: ElementwiseKernel, target: Tensor, views: View[], args: readonly number[], fresh: boolean): void {
  try {
    kernelFn(target._view(), views, args);
  } catch (e) {
    if (fresh) target.dispose();
    throw new NablaError(`kernel failed on device ${target.device}: ${(e as Error).message}`, { op: def.name, cause: e });
  }
}

function copyDtypes(dtypes: readonly DType[]): DType[] {
  return dtypes.slice();
}

function tensorDtypes(operands: readonly Operand[]): DType[] {
  const out: DType[] = [];
  for (const o of operands) if (o instanceof Tensor) out.push(o.dtype);
  return out;
}

/** Records the graph node of an elementwise op (every dispatch path ends here or in `recordFewElementwise`). */
function recordElementwise(g: ElementwiseGrad, operands: readonly Operand[], result: Tensor, params: readonly number[], numberMask: number): void {
  const attrs = params === NO_PARAMS ? NO_ATTRS : { params };
  const saveInputs = g.save === 'inputs' || g.save === 'both';
  let save: boolean | readonly boolean[] = saveInputs;
  if (saveInputs && g.uses) {
    let grads = 0;
    for (let i = 0; i < operands.length; i++) if (gradBit(operands[i]!)) grads |= 1 << i;
    save = savedOperands(g.uses, grads, operands.length);
  }
  recordOne(formulaOf(g, numberMask), operands, result, save, g.save === 'output' || g.save === 'both', attrs);
}

/**
 * `recordElementwise` of a one-operand (`b` undefined) or two-operand op without params, with
 * the operands as arguments: the scalar paths' `x.tanh()` and `x.mul(w)` make no operands array.
 */
function recordFewElementwise(g: ElementwiseGrad, a: Operand, b: Operand | undefined, result: Tensor, numberMask: number): void {
  const saveInputs = g.save === 'inputs' || g.save === 'both';
  let save: boolean | readonly boolean[] = saveInputs;
  if (saveInputs && g.uses) save = savedOperands(g.uses, (gradBit(a) ? 1 : 0) | (b !== undefined && gradBit(b) ? 2 : 0), b === undefined ? 1 : 2);
  recordFew(formulaOf(g, numberMask), a, b, result, save, g.save === 'output' || g.save === 'both', NO_ATTRS);
}

/** Whether an operand requires grad (a leaf that does, or a result of the graph). */
function gradBit(o: Operand): boolean {
  return o instanceof Tensor && (o._requiresGrad || o._gradFn !== null);
}

/** Per `uses` table, the save masks already computed, by the bits of the operands requiring grad. */
const saveMasks = new WeakMap<readonly (readonly number[])[], (readonly boolean[] | undefined)[]>();

/** Which of `n` operands to save: those read by the gradient of an operand that requires grad (bits of `grads`). */
function savedOperands(uses: readonly (readonly number[])[], grads: number, n: number): readonly boolean[] {
  // One array per (op, operands requiring grad), shared by every node: recording only reads it.
  let byGrads = saveMasks.get(uses);
  if (byGrads === undefined) saveMasks.set(uses, (byGrads = []));
  let save = byGrads[grads];
  if (save === undefined) {
    // JS-number operands are kept in their slot whatever the mask says.
    const mask = new Array<boolean>(n).fill(false);
    for (let i = 0; i < n; i++) if (grads & (1 << i)) for (const j of uses[i]!) mask[j] = true;
    save = byGrads[grads] = Object.freeze(mask);
  }
  return save;
}

/** What the scalar fast path remembers per op and operand kinds: the spec for one dtype and backend. */
interface ScalarMemo {
  readonly dtype: DType;
  readonly backend: Backend;
  readonly outDtype: DType;
  readonly spec: CachedSpec;
}

/** The number mask of the operands `scalarFirst` last accepted (a second result without an allocation). */
let scalarMask = 0;

/**
 * The first tensor operand when the operands suit the scalar paths (see `runScalarElementwise`),
 * else null; `scalarMask` receives which operands are JS numbers.
 */
function scalarFirst(def: ElementwiseOpDef, operands: readonly Operand[]): Tensor | null {
  const n = operands.length;
  if (n !== def.arity || AMP.active || dispatchHooked()) return null;
  let first: Tensor | null = null;
  let numberMask = 0;
  for (let i = 0; i < n; i++) {
    const o = operands[i];
    if (o instanceof Tensor) {
      if (!settledScalar(o)) return null;
      if (first === null) first = o;
      else if (!sameKind(o, first)) return null;
    } else if (typeof o === 'number' || typeof o === 'boolean') numberMask |= 1 << i;
    else return null;
  }
  // Floating only: then JS numbers never lift the dtype (integer and bool promotion is the general path's).
  if (first === null || (first.dtype !== 'float32' && first.dtype !== 'float64')) return null;
  // 'first' takes operand 0's dtype, which the general path reports on when it is a number.
  if (def.dtype === 'first' && first !== operands[0]) return null;
  if (first.rt.events.watching['op:dispatch']) return null;
  scalarMask = numberMask;
  return first;
}

/** A 0-d tensor, alive, with no write still arriving: what the scalar paths read. */
function settledScalar(t: Tensor): boolean {
  return t.shape.length === 0 && !t._disposed && t._ref.pending === null;
}

/** Same dtype, backend and runtime: nothing to promote or move between them. */
function sameKind(t: Tensor, like: Tensor): boolean {
  return t.dtype === like.dtype && t._ref.backend === like._ref.backend && t.rt === like.rt;
}

/**
 * Whether the scalar paths may write an op's result (of `outDtype`) into `out`: a settled 0-d
 * tensor of `like`'s kind that no queued kernel still reads, and the op's result dtype is its own
 * (the general path's kernel writes `out`'s dtype: the spec is the same only then).
 */
function scalarOutOk(out: Tensor, like: Tensor, outDtype: DType): boolean {
  return settledScalar(out) && out._ref.lastRead === null && sameKind(out, like) && outDtype === out.dtype;
}

/** The spec for these operands (what runElementwiseGeneral derives), or null if the backend lacks the out dtype. */
function scalarMemo(def: ElementwiseOpDef, operands: readonly Operand[], first: Tensor, numberMask: number): ScalarMemo | null {
  const dtype = first.dtype;
  const backend = first._ref.backend;
  const memos = cacheOf(def).scalar;
  const m = memos[numberMask];
  if (m !== undefined && m.dtype === dtype && m.backend === backend) return m;
  // Promotion gives `dtype` itself.
  const outDtype = def.dtype === 'first' ? dtype : outDtypeOf(def, dtype);
  if (!backend.dtypes.includes(outDtype)) return null;
  const nTensors = operands.length - popcount(numberMask);
  let packed = 0;
  for (let i = 0; i < nTensors; i++) packed = packed * 8 + DT_NUM[dtype];
  const spec = cachedSpec(def, numberMask, packed, nTensors, outDtype, dtype, tensorDtypes, operands);
  return (memos[numberMask] = { dtype, backend, outDtype, spec });
}

/** The op's params followed by its number operands (the params themselves when there are none). */
function scalarArgs(operands: readonly Operand[], params: readonly number[], numberMask: number): readonly number[] {
  if (numberMask === 0) return params;
  const n = operands.length;
  const all = new Array<number>(params.length + popcount(numberMask));
  let k = 0;
  for (; k < params.length; k++) all[k] = params[k]!;
  for (let i = 0; i < n; i++) if (numberMask & (1 << i)) all[k++] = Number(operands[i]);
  return all;
}

/** The kernel's input views: array literals for the usual arities (a sized `new Array` is slower to make). */
function scalarViews(operands: readonly Operand[], numberMask: number): View[] {
  const n = operands.length;
  if (numberMask === 0) {
    if (n === 2) return [(operands[0] as Tensor)._view(), (operands[1] as Tensor)._view()];
    if (n === 1) return [(operands[0] as Tensor)._view()];
  }
  const views = new Array<View>(n - popcount(numberMask));
  for (let i = 0, k = 0; i < n; i++) {
    const o = operands[i];
    if (o instanceof Tensor) views[k++] = o._view();
  }
  return views;
}

/**
 * The scalar graph's dispatch (`y.mul(w).add(b).tanh()` on 0-d tensors): every tensor operand
 * 0-d, of one floating dtype, on one backend, alive and settled; JS numbers allowed; no autocast,
 * dispatch hook or `op:dispatch` listener. It exists because such ops are all overhead: with one
 * dtype there is nothing to promote and with shapes `[]` nothing to broadcast, so it skips both and
 * remembers the spec per op, operand kinds, dtype and backend instead of rebuilding its key.
 *
 * It must agree with `runElementwiseGeneral` in everything observable: values, dtype, shape,
 * graph node and saved values (both end in `recordElementwise`). Whatever it does not handle,
 * including every operand that would be an error, it declines (null) before allocating anything,
 * so the general path raises the usual error.
 */
export function runScalarElementwise(def: ElementwiseOpDef, operands: readonly Operand[], params: readonly number[]): Tensor | null {
  const first = scalarFirst(def, operands);
  if (first === null) return null;
  const numberMask = scalarMask;
  const m = scalarMemo(def, operands, first, numberMask);
  if (m === null) return null;
  const rt = first.rt;
  const kernelFn = kernelFor(rt, m.backend, m.spec, m.outDtype);
  const kernelArgs = scalarArgs(operands, params, numberMask);
  const result = emptyOn(rt, m.backend, m.outDtype, first.shape);
  runKernel(def, kernelFn, result, scalarViews(operands, numberMask), kernelArgs, true);
  if (def.grad && needsGrad(rt, operands)) recordElementwise(def.grad, operands, result, params, numberMask);
  return result;
}

/**
 * `runElementwise` with an `out` (in-place writes: `add_`, the engine's sum of a shared leaf's
 * gradient contributions) for the operands the scalar path takes, when `out` is a 0-d tensor of
 * their dtype and the op's result dtype, on their backend, alive, with nothing in flight (no
 * pending write or read). Like the general path given an `out`, it records no node and leaves the
 * version counter to its caller. Returns false, having done nothing, for anything else.
 */
export function runScalarElementwiseInto(def: ElementwiseOpDef, operands: readonly Operand[], params: readonly number[], out: Tensor): boolean {
  if (out.shape.length !== 0) return false;
  const first = scalarFirst(def, operands);
  if (first === null) return false;
  const numberMask = scalarMask;
  const m = scalarMemo(def, operands, first, numberMask);
  if (m === null || !scalarOutOk(out, first, m.outDtype)) return false;
  const kernelFn = kernelFor(first.rt, m.backend, m.spec, m.outDtype);
  runKernel(def, kernelFn, out, scalarViews(operands, numberMask), scalarArgs(operands, params, numberMask), false);
  return true;
}

/** What a lent array holds between calls: no view, so it keeps no tensor reachable. */
const NO_VIEW = null as unknown as View;
/** The input arrays `runKernelLent` lends (one per arity), empty between calls. */
const LENT_ONE: View[] = [NO_VIEW];
const LENT_TWO: View[] = [NO_VIEW, NO_VIEW];

/**
 * `runKernel` with the inputs `a` (and `b`) in an array lent for the call: kernels read `inputs`
 * only while they run (the `ElementwiseKernel` contract) and never call back into core, and the
 * scalar graph makes one kernel call per op forward and about two per op backward, so an array
 * per call was a good part of the garbage a pass leaves. The arrays are emptied after the call,
 * so they keep no tensor reachable (after a kernel that threw, until the next call).
 */
function runKernelLent(def: ElementwiseOpDef, kernelFn: ElementwiseKernel, target: Tensor, a: Tensor, b: Tensor | undefined, args: readonly number[], fresh: boolean): void {
  if (b === undefined) {
    LENT_ONE[0] = a._view();
    runKernel(def, kernelFn, target, LENT_ONE, args, fresh);
    LENT_ONE[0] = NO_VIEW;
  } else {
    LENT_TWO[0] = a._view();
    LENT_TWO[1] = b._view();
    runKernel(def, kernelFn, target, LENT_TWO, args, fresh);
    LENT_TWO[0] = NO_VIEW;
    LENT_TWO[1] = NO_VIEW;
  }
}

/**
 * Whether `runBinary` / `runUnary` may take `a` (their first operand) past the general path: an op
 * of that arity without params, no autocast or dispatch observer to see the call, and a settled
 * floating 0-d tensor.
 */
function directScalarOk(def: ElementwiseOpDef, arity: number, a: Tensor): boolean {
  const dtype = a.dtype;
  return (
    def.arity === arity &&
    def.numParams === 0 &&
    !AMP.active &&
    !dispatchHooked() &&
    !a.rt.events.watching['op:dispatch'] &&
    settledScalar(a) &&
    (dtype === 'float32' || dtype === 'float64')
  );
}

/**
 * `runElementwise(def, [a, b], [], out)` for a binary op without params: the binary methods,
 * `g.mul(x)` in gradient formulas and the engine's `buf += g`. Where the scalar paths would take
 * the operands (and `out`), it runs without the general operand loop, and without the operands
 * array unless it records a node (which needs it). Anything else, and the first call of an op for
 * an operand kind (which fills the memo), goes through `runElementwise` itself. Like
 * `runScalarElementwise`, it ends in `recordElementwise` when it records.
 */
export function runBinary(def: ElementwiseOpDef, a: Tensor, b: Operand, out?: Tensor): Tensor {
  const rt = a.rt;
  const ref = a._ref;
  const dtype = a.dtype;
  if (!directScalarOk(def, 2, a)) return runElementwise(def, [a, b], NO_PARAMS, out);
  let numberMask = 0;
  // The kernel's inputs: `b` too unless it is a number (then an arg).
  let second: Tensor | undefined;
  let args: readonly number[] = NO_PARAMS;
  // Whether a node is recorded, as needsGrad decides (then the operands array is made after all).
  let record = false;
  if (b instanceof Tensor) {
    if (!settledScalar(b) || !sameKind(b, a)) {
      return runElementwise(def, [a, b], NO_PARAMS, out);
    }
    record = out === undefined && def.grad !== undefined && rt.gradMode.enabled && (a._requiresGrad || a._gradFn !== null || b._requiresGrad || b._gradFn !== null);
    second = b;
  } else if (typeof b === 'number' || typeof b === 'boolean') {
    record = out === undefined && def.grad !== undefined && rt.gradMode.enabled && (a._requiresGrad || a._gradFn !== null);
    numberMask = 2;
    args = [Number(b)];
  } else {
    return runElementwise(def, [a, b], NO_PARAMS, out);
  }
  const m = cacheOf(def).scalar[numberMask];
  if (m === undefined || m.dtype !== dtype || m.backend !== ref.backend) return runElementwise(def, [a, b], NO_PARAMS, out);
  const kernelFn = kernelFor(rt, m.backend, m.spec, m.outDtype);
  if (out !== undefined) {
    if (!scalarOutOk(out, a, m.outDtype)) return runElementwise(def, [a, b], NO_PARAMS, out);
    runKernelLent(def, kernelFn, out, a, second, args, false);
    return out;
  }
  const result = emptyOn(rt, m.backend, m.outDtype, a.shape);
  runKernelLent(def, kernelFn, result, a, second, args, true);
  if (record) recordFewElementwise(def.grad!, a, b, result, numberMask);
  return result;
}

/**
 * `runElementwise(def, [a])` for a unary op without params: the unary methods (`x.tanh()`). Where
 * the scalar paths would take `a`, it runs without the operands array (made only by the general
 * path); anything else, and an op's first call for a dtype (which fills the memo), goes through
 * `runElementwise` itself. Like `runBinary`, it ends in the same node recording.
 */
export function runUnary(def: ElementwiseOpDef, a: Tensor): Tensor {
  const rt = a.rt;
  const dtype = a.dtype;
  if (!directScalarOk(def, 1, a)) return runElementwise(def, [a]);
  const m = cacheOf(def).scalar[0];
  if (m === undefined || m.dtype !== dtype || m.backend !== a._ref.backend) return runElementwise(def, [a]);
  const kernelFn = kernelFor(rt, m.backend, m.spec, m.outDtype);
  const result = emptyOn(rt, m.backend, m.outDtype, a.shape);
  runKernelLent(def, kernelFn, result, a, undefined, NO_PARAMS, true);
  if (def.grad !== undefined && rt.gradMode.enabled && (a._requiresGrad || a._gradFn !== null)) recordFewElementwise(def.grad, a, undefined, result, 0);
  return result;
}

function popcount(x: number): number {
  let c = 0;
  for (; x !== 0; x &= x - 1) c++;
  return c;
}

/** The spec of `def` with every operand a tensor of `dtype` (what plugins precompile). */
export function specForElementwise(def: ElementwiseOpDef, dtype: DType): ElementwiseSpec {
  const computeDtype = def.dtype === 'float' ? toFloating(dtype) : dtype;
  const out = def.dtype === 'first' ? dtype : outDtypeOf(def, dtype);
  return specFor(def, 0, new Array<DType>(def.arity).fill(dtype), out, computeDtype);
}
