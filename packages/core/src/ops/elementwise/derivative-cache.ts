/**
 * An elementwise op whose derivative is costly (an activation: silu's f'(x) = σ(x)(1 + x(1 − σ(x))))
 * can compute f(x) and f'(x) in one pass, sharing σ(x), when its forward records a node: the
 * backward is then `g · f'(x)`, a multiply, instead of a second pass of exp and division.
 *
 * The cached f'(x) is the node's own (in its attrs), not a saved value: the saved listing stays
 * PyTorch's (`_saved_self` = x), and x is still checked against in-place changes before the cache
 * is used. It is freed with the node's saved values (after backward unless `retainGraph`), is a
 * live tensor while it exists (`memory()` counts it; an enclosing `tidy` disposes it with the
 * forward's other results, and a backward after that computes from x). A backward that records a
 * graph (createGraph) takes its value from the cache too, but records the backward op's own node
 * (`recordedGradFromCache`): higher derivatives must come from the x-based formula. Nothing is cached
 * under saved-tensor hooks (they must see everything the graph keeps), autocast, dispatch hooks or
 * `op:dispatch` listeners, nor on a backend without `compileElementwisePair`: those take today's
 * one-output path.
 */
import type { Backend, ElementwisePairKernel, ElementwisePairSpec } from '../../backend/types.js';
import { NablaError } from '../../errors.js';
import { shapesEqual } from '../../shape.js';
import type { GradFormula, OpNode } from '../../autograd/op-node.js';
import { exprToString, isBinary, isUnary, type Expr } from '../../expr/ir.js';
import type { KernelRegistry } from '../../runtime/registries.js';
import { Tensor } from '../../tensor/tensor.js';
import { AMP } from '../../amp/state.js';
import { dispatchHooked } from '../dispatch-seam.js';
import { emptyOn, recordOne } from '../dispatch.js';
import { runElementwise, specForElementwise, type ElementwiseAttrs, type ElementwiseGrad, type ElementwiseOpDef } from './define.js';
import { mul } from './table.js';

/** The attrs of a node that may carry its f'(x). */
export interface DerivativeCacheAttrs extends ElementwiseAttrs {
  /** f'(x), until the node is released; null once freed. */
  cache: Tensor | null;
}

/**
 * Rebuilds `roots` so that structurally equal subexpressions are one node (silu's f and f' each
 * build their own σ(x)): backends evaluate each distinct node once.
 */
export function shareNodes(roots: readonly Expr[]): Expr[] {
  const byKey = new Map<string, Expr>();
  const ids = new Map<Expr, number>();
  const memo = new Map<Expr, Expr>();
  const intern = (key: string, make: () => Expr): Expr => {
    let e = byKey.get(key);
    if (e === undefined) {
      e = make();
      byKey.set(key, e);
      ids.set(e, ids.size);
    }
    return e;
  };
  const go = (e: Expr): Expr => {
    const hit = memo.get(e);
    if (hit !== undefined) return hit;
    let r: Expr;
    if (e.op === 'input' || e.op === 'param') r = intern(`${e.op}${e.index}`, () => e);
    else if (e.op === 'const') r = intern(`c${Object.is(e.value, -0) ? '-0' : String(e.value)}`, () => e);
    else if (e.op === 'where') {
      const c = go(e.cond), a = go(e.a), b = go(e.b);
      r = intern(`where(${ids.get(c)},${ids.get(a)},${ids.get(b)})`, () => ({ op: 'where', cond: c, a, b }));
    } else if (isBinary(e)) {
      const a = go(e.a), b = go(e.b);
      r = intern(`${e.op}(${ids.get(a)},${ids.get(b)})`, () => ({ op: e.op, a, b }));
    } else if (isUnary(e)) {
      const a = go(e.a);
      r = intern(`${e.op}(${ids.get(a)})`, () => ({ op: e.op, a }));
    } else throw new Error(`unknown expression node ${(e as Expr).op}`);
    memo.set(e, r);
    return r;
  };
  return roots.map(go);
}

/** A pair kernel resolved for one op, dtype and backend (null: none, take the one-output path). */
interface PairMemo {
  readonly backend: Backend;
  readonly dtype: string;
  readonly registry: KernelRegistry;
  readonly generation: number;
  readonly kernel: ElementwisePairKernel | null;
}

const memos = new WeakMap<ElementwiseOpDef, PairMemo[]>();

/** The pair spec of `forward` with `dfExpr`, every operand of `dtype` (exported for backends' tests). */
export function pairSpecFor(forward: ElementwiseOpDef, dfExpr: Expr, dtype: 'float32' | 'float64'): ElementwisePairSpec {
  const one = specForElementwise(forward, dtype);
  const [expr, expr2] = shareNodes([one.expr, dfExpr]) as [Expr, Expr];
  return {
    name: `${forward.name}WithDerivative`,
    expr,
    expr2,
    inputDtypes: one.inputDtypes,
    outDtype: one.outDtype,
    computeDtype: one.computeDtype,
    numParams: one.numParams,
    key: `${one.key}|pair|${exprToString(expr2)}`,
  };
}

function pairKernel(forward: ElementwiseOpDef, dfExpr: Expr, x: Tensor, dtype: 'float32' | 'float64'): ElementwisePairKernel | null {
  const backend = x._ref.backend;
  const registry = x.rt.kernels;
  let list = memos.get(forward);
  if (list === undefined) memos.set(forward, (list = []));
  for (const m of list) {
    if (m.backend === backend && m.dtype === dtype && m.registry === registry && m.generation === registry.generation) return m.kernel;
  }
  let kernel: ElementwisePairKernel | null = null;
  // A kernel registered for the forward op (an override) wins: the pair would bypass it.
  if (backend.compileElementwisePair !== undefined && !registry.hasElementwise(forward.name, backend.device, dtype)) {
    kernel = backend.compileElementwisePair(pairSpecFor(forward, dfExpr, dtype));
  }
  const stale = list.findIndex((m) => m.backend === backend && m.dtype === dtype);
  const memo: PairMemo = { backend, dtype, registry, generation: registry.generation, kernel };
  if (stale >= 0) list[stale] = memo;
  else list.push(memo);
  return kernel;
}

/** The formula of `forward`'s nodes that carry a cache: its own, plus freeing the cache on release. */
const formulas = new WeakMap<ElementwiseOpDef, GradFormula<DerivativeCacheAttrs>>();

function formulaOf(forward: ElementwiseOpDef): GradFormula<DerivativeCacheAttrs> {
  let f = formulas.get(forward);
  if (f === undefined) {
    const g = forward.grad!;
    f = { name: g.name, backward: (gs, node) => g.backward(gs[0]!, node), release: releaseCache };
    formulas.set(forward, f);
  }
  return f;
}

function releaseCache(node: OpNode<DerivativeCacheAttrs>): void {
  const c = node.attrs.cache;
  if (c === null) return;
  node.attrs.cache = null;
  if (!c._disposed) c.dispose();
}

/** Whether `x`'s forward may take the pair path (see the file comment). */
function cacheable(forward: ElementwiseOpDef, x: Tensor, params: readonly number[]): boolean {
  const rt = x.rt;
  const g = forward.grad;
  return (
    g !== undefined &&
    g.save === 'inputs' &&
    g.uses === undefined &&
    g.nameFor === undefined &&
    forward.arity === 1 &&
    params.length === forward.numParams &&
    rt.gradMode.enabled &&
    (x._requiresGrad || x._gradFn !== null) &&
    rt._savedHooks === null &&
    !AMP.active &&
    !dispatchHooked() &&
    !rt.events.watching['op:dispatch'] &&
    (x.dtype === 'float32' || x.dtype === 'float64') &&
    x.shape.length > 0 &&
    !x._disposed &&
    !x._inference &&
    x._ref.pending === null &&
    x._ref.backend.compileElementwisePair !== undefined
  );
}

/**
 * `runElementwise(forward, [x], params)` for a one-operand op whose gradient formula may use
 * `cachedDerivative`: where the backend has a pair kernel and the forward records a node, f(x)
 * and f'(x) (`dfExpr`, over the same input and params) come from one pass, and f'(x) stays on the
 * node. Anything else is `runElementwise` itself.
 */
export function runWithDerivative(forward: ElementwiseOpDef, dfExpr: Expr, x: Tensor, params: readonly number[]): Tensor {
  if (!(x instanceof Tensor) || !cacheable(forward, x, params)) return runElementwise(forward, [x], params);
  const dtype = x.dtype as 'float32' | 'float64';
  const kernel = pairKernel(forward, dfExpr, x, dtype);
  if (kernel === null) return runElementwise(forward, [x], params);
  const rt = x.rt;
  const backend = x._ref.backend;
  const y = emptyOn(rt, backend, dtype, x.shape);
  // The cache joins an enclosing tidy as y does: a forward in grad mode whose graph is never
  // differentiated then leaves nothing for the garbage collector; a backward after the tidy
  // disposed it takes the x-based formula (`cachedDerivative`).
  let d: Tensor;
  try {
    d = emptyOn(rt, backend, dtype, x.shape);
  } catch (e) {
    y.dispose();
    throw e;
  }
  let ok: boolean;
  try {
    ok = kernel(y._view(), d._view(), [x._view()], params);
  } catch (e) {
    y.dispose();
    d.dispose();
    throw new NablaError(`kernel failed on device ${x.device}: ${(e as Error).message}`, { op: forward.name, cause: e });
  }
  if (!ok) {
    y.dispose();
    d.dispose();
    return runElementwise(forward, [x], params);
  }
  const attrs: DerivativeCacheAttrs = { params, cache: d };
  recordOne(formulaOf(forward), [x], y, true, false, attrs);
  return y;
}

/**
 * The first backward's g · f'(x) from the node's cache, or null where it has none to use (see
 * `cachedDerivative`). The product is written into the cache itself, which becomes the gradient:
 * reading g and f'(x) and writing over f'(x) spares the memory traffic of a fresh output (its lines
 * fetched before they are written) and the allocation. The node then keeps no cache: a later pass
 * over a retained graph takes the x-based formula. The gradient joins what the running backward
 * step made (the runtime's collector), as a fresh result would, so the engine frees it once
 * consumed, or hands it to `.grad` without a copy, exactly as it would a fresh one.
 */
export function gradFromCache(node: OpNode<ElementwiseAttrs>, g: Tensor): Tensor | null {
  const c = cachedDerivative(node);
  if (c === null) return null;
  if (g.dtype !== c.dtype || g._ref.backend !== c._ref.backend || !shapesEqual(g.shape, c.shape) || c._ref.pending !== null) return g.mul(c);
  runElementwise(mul, [g, c], NO_PARAMS, c);
  (node.attrs as DerivativeCacheAttrs).cache = null;
  const rt = c.rt;
  if (rt._created !== null) rt._created.push(c);
  return c;
}

const NO_PARAMS: readonly number[] = [];

/** The node formula of each backward op `recordedGradFromCache` records (the one `runElementwise` would make). */
const backwardFormulas = new WeakMap<ElementwiseGrad, GradFormula<ElementwiseAttrs>>();

function backwardFormulaOf(g: ElementwiseGrad): GradFormula<ElementwiseAttrs> {
  let f = backwardFormulas.get(g);
  if (f === undefined) {
    f = { name: g.name, backward: (gs, node) => g.backward(gs[0]!, node) };
    backwardFormulas.set(g, f);
  }
  return f;
}

/**
 * The first backward's `backward(x, g)` (g · f'(x), the op `backward` a forward node's formula
 * runs) when that backward records a graph (createGraph), from the node's cache: the value is
 * g · f'(x) by a multiply instead of a second pass of exp and division, and the node recorded for
 * it is `backward`'s own, with x and g saved, exactly as `runElementwise(backward, [x, g])` would
 * record it; higher derivatives come from its x-based formula as before. A double backward
 * (SiLU'' of 2^20, one thread) so skips one of its three transcendental passes.
 *
 * The product is written over the cache, which becomes the result (as in `gradFromCache`). f'(x)
 * is the same expression over the same x as `backward`'s, so the value is the bits that kernel
 * stores where both run in float32 lanes (the wasm kernels) or in float64; a JavaScript float32
 * kernel, which rounds only its result, may differ in the last bit (as `gradFromCache`'s does).
 * Null where the node has no cache to use, or where the one-output path must run: anything
 * watching dispatches (`op:dispatch` listeners, dispatch hooks) must see `backward` dispatched,
 * and autocast may cast its operands. The cache is let go then (see `cachedDerivative`).
 */
export function recordedGradFromCache(node: OpNode<ElementwiseAttrs>, backward: ElementwiseOpDef, x: Tensor, g: Tensor): Tensor | null {
  const attrs = node.attrs as Partial<DerivativeCacheAttrs>;
  const c = attrs.cache;
  if (c === undefined || c === null) return null;
  attrs.cache = null;
  const rt = c.rt;
  const bg = backward.grad;
  const usable =
    !c._disposed &&
    rt.gradMode.enabled &&
    bg !== undefined &&
    bg.save === 'inputs' &&
    bg.uses === undefined &&
    bg.nameFor === undefined &&
    backward.arity === 2 &&
    g instanceof Tensor &&
    g.dtype === c.dtype &&
    g._ref.backend === c._ref.backend &&
    shapesEqual(g.shape, c.shape) &&
    c._ref.pending === null &&
    g._ref.pending === null &&
    !AMP.active &&
    !dispatchHooked() &&
    !rt.events.watching['op:dispatch'];
  if (!usable) {
    if (!c._disposed) c.dispose();
    return null;
  }
  rt.gradMode.run(false, rt.gradMode.inference, () => runElementwise(mul, [g, c], NO_PARAMS, c));
  recordOne(backwardFormulaOf(bg), [x, g], c, true, false, { params: node.attrs.params });
  if (rt._created !== null) rt._created.push(c);
  return c;
}

/**
 * The f'(x) the node's forward kept, when its backward may use it: the node has one and the
 * backward records no graph (grad mode off). The caller has read the saved x first (its
 * in-place check). Null otherwise: the formula computes from x.
 *
 * A backward that records a graph (createGraph, which retains the graph) lets the cache go at
 * once (the activation's formula asks `recordedGradFromCache` first): the x-based formula serves
 * any later pass, and a double backward's graph would otherwise hold a tensor of x's size that
 * nothing reads until it is collected.
 */
export function cachedDerivative(node: OpNode<ElementwiseAttrs>): Tensor | null {
  const attrs = node.attrs as Partial<DerivativeCacheAttrs>;
  const c = attrs.cache;
  if (c === undefined || c === null) return null;
  if (!c.rt.gradMode.enabled && !c._disposed) return c;
  attrs.cache = null;
  if (!c._disposed) c.dispose();
  return null;
}
