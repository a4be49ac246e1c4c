/**
 * The backward engine. It finds the nodes reachable from the roots, counts how many gradients
 * each must wait for, then runs them from a ready queue (latest-created first, as PyTorch does),
 * summing gradients that meet at a node. Iterative, so deep graphs cannot overflow the stack.
 *
 *   discover → (prune to what reaches the requested inputs) → count dependencies →
 *   loop: pop a ready node, run its hooks, apply it, pass each gradient down its edge.
 */
import { NablaError, fmtShape } from '../errors.js';
import type { Runtime } from '../runtime/runtime.js';
import { Tensor } from '../tensor/tensor.js';
import { AccumulateGrad, accumulateInto } from './accumulate-grad.js';
import { gradEdge } from './edges.js';
import type { MaybeGrad, Node, TensorMeta } from './node.js';
import { OpNode } from './op-node.js';
import { Reclaimer } from './reclaim.js';

export interface EngineRequest {
  roots: readonly Tensor[];
  rootGrads: readonly MaybeGrad[];
  keepGraph: boolean;
  createGraph: boolean;
  /** Tensors whose gradients are wanted; null = every leaf (plain backward). */
  inputs: readonly Tensor[] | null;
  /** true: accumulate into `.grad` (backward); false: return them (autograd.grad). */
  accumulate: boolean;
  allowUnused: boolean;
}

/** A max-heap of nodes by creation order: the most recent ready node runs first. */
class ReadyQueue {
  private heap: Node[] = [];
  get size(): number {
    return this.heap.length;
  }
  push(n: Node): void {
    const h = this.heap;
    h.push(n);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (priority(h[p]!) >= priority(n)) break;
      h[i] = h[p]!;
      i = p;
    }
    h[i] = n;
  }
  pop(): Node {
    const h = this.heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= h.length) break;
        const r = l + 1;
        const c = r < h.length && priority(h[r]!) > priority(h[l]!) ? r : l;
        if (priority(h[c]!) <= priority(last)) break;
        h[i] = h[c]!;
        i = c;
      }
      h[i] = last;
    }
    return top;
  }
}

/** Accumulators first (so leaf grads land as soon as they are complete), then newest first. */
function priority(n: Node): number {
  return n instanceof AccumulateGrad ? Number.MAX_SAFE_INTEGER : n.seq;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Whether `shape` broadcasts to `target` (so a gradient of `target` can be summed down to it). */
function expandableTo(shape: readonly number[], target: readonly number[]): boolean {
  if (shape.length > target.length) return false;
  const off = target.length - shape.length;
  return shape.every((d, i) => d === 1 || d === target[i + off]);
}

/** Fits a gradient to the metadata of what it is the gradient of (PyTorch's validate_outputs). */
export function fitGrad(g: Tensor, meta: TensorMeta, who: string, index: number): Tensor {
  if (!(g instanceof Tensor)) {
    throw new NablaError(`${who} returned an invalid gradient at index ${index} - expected a Tensor or null, got ${typeof g}`, { op: who });
  }
  let r = g;
  if (!sameShape(r.shape, meta.shape)) {
    if (!expandableTo(meta.shape, r.shape)) {
      throw new NablaError(
        `Function ${who} returned an invalid gradient at index ${index} - got ${fmtShape(r.shape)} but expected shape compatible with ${fmtShape(meta.shape)}`,
        { op: who },
      );
    }
    r = sumToShape(r, meta.shape);
  }
  if (r.device !== meta.device) {
    throw new NablaError(
      `Function ${who} returned an invalid gradient at index ${index} - expected device ${meta.device} but got ${r.device}`,
      { op: who },
    );
  }
  if (r.dtype !== meta.dtype) r = r.to(meta.dtype);
  return r;
}

function sumToShape(g: Tensor, shape: readonly number[]): Tensor {
  const lead = g.ndim - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.ndim; i++) if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  let r = axes.length ? g.sum(axes, true) : g;
  if (!sameShape(r.shape, shape)) r = r.reshape(shape);
  return r;
}

let zerosFactory: ((rt: Runtime, meta: TensorMeta) => Tensor) | null = null;
/** @internal core's factories register how the engine makes zero gradients. */
export function setZerosFactory(f: (rt: Runtime, meta: TensorMeta) => Tensor): void {
  zerosFactory = f;
}
function makeZeros(rt: Runtime, meta: TensorMeta): Tensor {
  return zerosFactory!(rt, meta);
}

function hasNaN(t: Tensor): boolean {
  const b = t._ref.backend;
  if (!b.readsSync || !b.readSync) return false;
  const d = t.dataSync();
  for (let i = 0; i < d.length; i++) if (d[i] !== d[i]) return true;
  return false;
}

function anomalyError(node: Node, message: string, cause?: unknown): NablaError {
  const where = node.stack ? `\n\nForward of the failing node was called here (anomaly detection):\n${node.stack}` : '';
  return new NablaError(`${message}${where}`, { op: node.name(), cause });
}

let lastPass = 0;
/** Passes running now: more than one only when a hook or Function runs backward inside another. */
const activePasses = new Set<number>();

interface SavedState {
  node: Node;
  pass: number;
  deps: number;
  needed: boolean;
  buf: MaybeGrad[] | null;
}

export function runEngine(rt: Runtime, req: EngineRequest): MaybeGrad[] {
  const pass = ++lastPass;
  const nested = activePasses.size > 0;
  activePasses.add(pass);
  // A nested pass may reach nodes of the pass it runs inside (a shared leaf): their state is set
  // aside and put back when the nested pass ends.
  const setAside: SavedState[] = [];
  const order: Node[] = [];
  try {
    return runPass(rt, req, pass, nested, setAside, order);
  } finally {
    activePasses.delete(pass);
    // Nothing of this pass is needed any more (also after an error).
    for (const n of order) n._buf = null;
    for (let i = setAside.length - 1; i >= 0; i--) {
      const st = setAside[i]!;
      st.node._pass = st.pass;
      st.node._deps = st.deps;
      st.node._needed = st.needed;
      st.node._buf = st.buf;
    }
  }
}

function runPass(rt: Runtime, req: EngineRequest, pass: number, nested: boolean, setAside: SavedState[], order: Node[]): MaybeGrad[] {
  const { roots, inputs } = req;
  const events = rt.events;

  // Root edges and gradients.
  const rootEdges = roots.map((t, i) => {
    if (!(t instanceof Tensor)) throw new NablaError(`element ${i} of tensors is not a Tensor`, { op: 'backward' });
    t._alive('backward');
    const e = gradEdge(t);
    if (e[0] === null) {
      throw new NablaError(`element ${i} of tensors does not require grad and does not have a grad_fn`, { op: 'backward' });
    }
    return e;
  });
  // Where to capture gradients of the requested inputs.
  const captures = new Map<Node, { nr: number; j: number }[]>();
  const wantedLeaves = new Set<Node>();
  if (inputs) {
    inputs.forEach((t, j) => {
      if (!(t instanceof Tensor)) throw new NablaError(`inputs[${j}] is not a Tensor`, { op: 'grad' });
      if (!t.requiresGrad) throw new NablaError('One of the differentiated Tensors does not require grad', { op: req.accumulate ? 'backward' : 'grad' });
      const [node, nr] = gradEdge(t);
      if (node instanceof AccumulateGrad) wantedLeaves.add(node);
      let list = captures.get(node!);
      if (!list) captures.set(node!, (list = []));
      list.push({ nr, j });
    });
  }

  const implicitRoots: Tensor[] = [];
  // What the checks below make (implicit ones, dtype casts) goes if a later root fails them.
  const madeHere: Tensor[] = [];
  let rootGrads: Tensor[];
  try {
    rootGrads = roots.map((t, i) => rootGradOf(t, i));
  } catch (e) {
    for (const t of madeHere) t.dispose();
    throw e;
  }
  function rootGradOf(t: Tensor, i: number): Tensor {
    const g = req.rootGrads[i];
    if (g === null || g === undefined) {
      if (t.numel() !== 1) {
        throw new NablaError(`grad can be implicitly created only for scalar outputs (output ${i} has shape ${fmtShape(t.shape)})`, { op: 'backward' });
      }
      const one = makeZeros(rt, { shape: t.shape, dtype: t.dtype, device: t.device }).add_(1);
      implicitRoots.push(one);
      madeHere.push(one);
      return one;
    }
    if (!(g instanceof Tensor)) throw new NablaError(`gradient ${i} must be a Tensor`, { op: 'backward' });
    if (!sameShape(g.shape, t.shape)) {
      throw new NablaError(
        `Mismatch in shape: grad_output[${i}] has a shape of ${fmtShape(g.shape)} and output[${i}] has a shape of ${fmtShape(t.shape)}.`,
        { op: 'backward' },
      );
    }
    if (g.device !== t.device) {
      throw new NablaError(`gradient ${i} is on ${g.device} but output ${i} is on ${t.device}`, { op: 'backward' });
    }
    if (g.dtype === t.dtype) return g;
    const cast = g.to(t.dtype);
    madeHere.push(cast);
    return cast;
  }

  // Discover the graph (iteratively) in DFS post-order, claiming each node for this pass.
  const claim = (node: Node): void => {
    if (nested && node._pass !== 0 && activePasses.has(node._pass)) {
      setAside.push({ node, pass: node._pass, deps: node._deps, needed: node._needed, buf: node._buf });
    }
    node._pass = pass;
    node._deps = 0;
    node._needed = inputs === null;
    node._buf = null;
  };
  const stackNodes: Node[] = [];
  const stackNext: number[] = [];
  for (const [n] of rootEdges) {
    if (n!._pass === pass) continue;
    claim(n!);
    stackNodes.push(n!);
    stackNext.push(0);
    while (stackNodes.length) {
      const top = stackNodes.length - 1;
      const node = stackNodes[top]!;
      const i = stackNext[top]!;
      if (i < node.next.length) {
        stackNext[top] = i + 1;
        const child = node.next[i]![0];
        if (child !== null && child._pass !== pass) {
          claim(child);
          stackNodes.push(child);
          stackNext.push(0);
        }
      } else {
        stackNodes.pop();
        stackNext.pop();
        order.push(node);
      }
    }
  }

  // Which nodes must run: all (plain backward) or those on a path to a requested input.
  if (inputs !== null) {
    for (const node of order) {
      if (captures.has(node) || node.next.some(([c]) => c !== null && c._needed)) node._needed = true;
    }
  }
  for (const node of order) {
    if (!node._needed) continue;
    for (const [c] of node.next) if (c !== null && c._needed) c._deps++;
  }

  // Gradients the pass made are freed as soon as they are consumed, unless they become part of a
  // graph (createGraph) or user code sees them (see reclaim.ts).
  const reclaim = new Reclaimer(rt, !req.createGraph);
  for (const one of implicitRoots) reclaim.own(one);
  const addTo = (node: Node, nr: number, g: Tensor): void => {
    let buf = node._buf;
    if (buf === null) node._buf = buf = new Array<MaybeGrad>(node.outMeta.length).fill(null);
    const prev = buf[nr];
    const next = prev ? prev.add(g) : g;
    buf[nr] = next;
    reclaim.hold(next);
    reclaim.release(prev);
  };
  rootEdges.forEach(([n, nr], i) => addTo(n!, nr, rootGrads[i]!));

  const captured: MaybeGrad[] = inputs ? new Array<MaybeGrad>(inputs.length).fill(null) : [];
  const reached: boolean[] = inputs ? new Array<boolean>(inputs.length).fill(false) : [];
  const ready = new ReadyQueue();
  // A root may be listed twice (or be reachable from another root): push each ready one once
  // (-1 marks it queued).
  for (const [n] of rootEdges) {
    if (n!._needed && n!._deps === 0) {
      n!._deps = -1;
      ready.push(n!);
    }
  }

  if (events.watching['backward:begin']) events.emit('backward:begin', { roots: roots.length, createGraph: req.createGraph });
  let executed = 0;

  rt.gradMode.run(req.createGraph, false, () => {
    try {
      while (ready.size) {
        const node = ready.pop();
        executed++;
        if (events.watching['backward:node']) events.emit('backward:node', { node: node.name(), seq: node.seq });
        const consumed = node._buf;
        node._buf = null;
        // Tensor hooks may replace entries; what is released at the end is what the slots held.
        let buf = consumed === null ? new Array<MaybeGrad>(node.outMeta.length).fill(null) : node.tensorHooks ? consumed.slice() : consumed;

        // Tensor hooks, then retainGrad, per output.
        if (node.tensorHooks) {
          node.tensorHooks.forEach((hooks, k) => {
            if (!hooks || !buf[k]) return;
            for (const h of hooks.slice()) {
              reclaim.escape(buf[k]);
              const r = reclaim.unwatched(() => h(buf[k]!));
              if (r !== undefined && r !== null) {
                reclaim.escape(r);
                buf[k] = fitGrad(r, node.outMeta[k]!, 'hook', k);
                reclaim.escape(buf[k]);
              }
            }
          });
        }
        if (node.retainHooks) node.retainHooks.forEach((h, k) => h && buf[k] && h(buf[k]!));
        const caps = captures.get(node);
        if (caps) {
          for (const { nr, j } of caps) {
            reached[j] = true;
            const g = buf[nr] ?? null;
            if (req.accumulate) {
              const t = inputs![j]!;
              if (!(node instanceof AccumulateGrad) && g) accumulateInto(t, g);
            } else {
              captured[j] = g;
              reclaim.escape(g);
            }
          }
        }
        if (node.preHooks) {
          for (const h of node.preHooks.slice()) {
            for (const g of buf) reclaim.escape(g);
            const r = reclaim.unwatched(() => h(buf.slice()));
            if (r) {
              buf = r.map((g, k) => (g ? fitGrad(g, node.outMeta[k]!, 'prehook', k) : null));
              for (const g of buf) reclaim.escape(g);
            }
          }
        }

        if (node instanceof AccumulateGrad) {
          // Accumulation copies what it keeps (or keeps it in a graph, where nothing is reclaimed).
          if (req.accumulate && (inputs === null || wantedLeaves.has(node))) node.apply(buf);
          if (consumed) for (const g of consumed) reclaim.release(g);
          continue;
        }

        reclaim.watch();

        let gradIn: MaybeGrad[];
        if (buf.every((g) => g === null)) {
          gradIn = new Array<MaybeGrad>(node.next.length).fill(null);
        } else {
          if (buf.some((g) => g === null) && !(node as { keepsNullGrads?: boolean }).keepsNullGrads) {
            const like = buf.find((g) => g !== null)!;
            buf = buf.map((g, k) => g ?? makeZeros(like.rt, node.outMeta[k]!));
          }
          try {
            gradIn = node.apply(buf);
          } catch (e) {
            if (rt.gradMode.anomaly || node.stack) throw anomalyError(node, `Function '${node.name()}' failed: ${(e as Error).message}`, e);
            throw e;
          }
          if (!Array.isArray(gradIn) || gradIn.length !== node.next.length) {
            throw new NablaError(
              `function ${node.name()} returned an incorrect number of gradients (expected ${node.next.length}, got ${Array.isArray(gradIn) ? gradIn.length : typeof gradIn})`,
              { op: node.name() },
            );
          }
          if (node.postHooks) {
            // Post hooks see the gradients fitted to their inputs (PyTorch validates first).
            gradIn = gradIn.map((g, i) => {
              const child = node.next[i]![0];
              return g && child ? fitGrad(g, child.outMeta[node.next[i]![1]]!, node.name(), i) : g;
            });
            for (const h of node.postHooks.slice()) {
              for (const g of gradIn) reclaim.escape(g);
              for (const g of buf) reclaim.escape(g);
              const r = reclaim.unwatched(() => h(gradIn.slice(), buf.slice()));
              if (r) {
                gradIn = r;
                for (const g of gradIn) reclaim.escape(g);
              }
            }
          }
          if (rt.gradMode.anomaly) {
            gradIn.forEach((g, i) => {
              if (g && hasNaN(g)) throw anomalyError(node, `Function '${node.name()}' returned nan values in its ${i}th output.`);
            });
          }
        }
        if (!req.keepGraph) node.release();

        for (let i = 0; i < node.next.length; i++) {
          const [child, nr] = node.next[i]!;
          if (child === null || !child._needed) continue;
          const g = gradIn[i];
          if (g) addTo(child, nr, fitGrad(g, child.outMeta[nr]!, node.name(), i));
          if (--child._deps === 0) ready.push(child);
        }
        reclaim.settle(node instanceof OpNode);
        if (consumed) for (const g of consumed) reclaim.release(g);
      }
    } catch (e) {
      // Nothing will consume the gradients still buffered, and the caller receives none.
      reclaim.abort();
      throw e;
    } finally {
      reclaim.end();
    }
  });

  if (events.watching['backward:end']) events.emit('backward:end', { nodes: executed });

  if (inputs && !req.allowUnused && !req.accumulate && reached.some((r) => !r)) {
    for (const g of captured) reclaim.discard(g);
    throw new NablaError(
      'One of the differentiated Tensors appears to not have been used in the graph. Set allowUnused: true if this is the desired behavior.',
      { op: 'grad' },
    );
  }
  return captured;
}
