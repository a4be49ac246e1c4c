/**
 * The backward engine, in micrograd's three steps:
 *
 *   discover  – walk the graph from the roots (iteratively, so deep graphs cannot overflow the
 *               stack), claiming each node for this pass and counting the edges into it: the
 *               gradients it must wait for;
 *   count     – only when some inputs were asked for (`autograd.grad`, `backward({ inputs })`):
 *               keep the nodes on a path to one of them, and count again among those;
 *   run       – pop ready nodes (latest-created first, as PyTorch does), apply each to the sum of
 *               the gradients that met at it, and pass what it returns down its edges.
 *
 * Everything else (hooks, captures for `autograd.grad`, freeing consumed gradients) is one named
 * step of `runNode`; the calls into user code are in engine-hooks.ts, where a pass starts (its
 * roots) in engine-roots.ts. The per-pass bookkeeping lives on the nodes themselves (`_pass`, `_deps`,
 * `_buf`): per-pass maps cost more than the rest of the loop. A plain backward touches
 * each node twice (discover, run): on a graph of scalars, reaching a node's memory is a good part
 * of what the pass costs.
 *
 * A node keeps its edges in its own fields (`_e`, `_c0`, `_c1`: see node.ts), so the walks read
 * a child with one load from the node; roots' edges are `[node, nr]` arrays, read by index, since
 * destructuring an array goes through the iterator protocol and allocates.
 */
import { NablaError } from '../errors.js';
import type { Runtime } from '../runtime/runtime.js';
import { Tensor } from '../tensor/tensor.js';
import { AccumulateGrad, accumulateInto } from './accumulate-grad.js';
import { gradEdge } from './edges.js';
import { runPostHooks, runPreHooks, runTensorHooks } from './engine-hooks.js';
import { rootEdgesOf, rootGradsOf } from './engine-roots.js';
import { ReadyQueue, anomalyError, fitGrad, hasNaN, makeZeros } from './engine-support.js';
import type { Edge, MaybeGrad, Node } from './node.js';
import { OpNode, lendGrad } from './op-node.js';
import { runBinary } from '../ops/elementwise/define.js';
import { add } from '../ops/elementwise/table.js';
import { Reclaimer } from './reclaim.js';

export { fitGrad, setZerosFactory } from './engine-support.js';

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

let lastPass = 0;
/** Passes running now: more than one only when a hook or Function runs backward inside another. */
const activePasses = new Set<number>();

/** A node's bookkeeping from an enclosing pass, set aside while a nested pass uses the node. */
interface SavedState {
  node: Node;
  pass: number;
  deps: number;
  buf: MaybeGrad[] | Tensor | null;
}

/** Where the gradient of requested input `j` is read: output `nr` of some node. */
interface Capture {
  nr: number;
  j: number;
}

export function runEngine(rt: Runtime, req: EngineRequest): MaybeGrad[] {
  const pass = new Pass(rt, req, ++lastPass, activePasses.size > 0);
  activePasses.add(pass.id);
  try {
    return pass.run();
  } finally {
    activePasses.delete(pass.id);
    pass.restore();
  }
}

class Pass {
  /** Every node reached: breadth-first for a plain backward, else in DFS post-order (children before parents). */
  private readonly order: Node[] = [];
  /** State of nodes an enclosing pass still needs (nested passes only). */
  private readonly setAside: SavedState[] = [];
  /** Nodes whose output gradients `autograd.grad`/`backward({ inputs })` asked for. */
  private readonly captures = new Map<Node, Capture[]>();
  private readonly wantedLeaves = new Set<Node>();
  private readonly captured: MaybeGrad[];
  private readonly reached: boolean[];
  private readonly ready = new ReadyQueue();
  /** Frees what the pass made once consumed (see reclaim.ts); it holds the runtime's collector until `restore`. */
  private readonly reclaim: Reclaimer;
  /** Every node that received a gradient ran and consumed it (no buffer is left to drop). */
  private drained = false;
  /**
   * The gradients array a one-output node's formula receives (see `gradsOf`): one array for the
   * pass, since each node's buffer holds its one gradient bare (an array per node was a tenth of
   * a scalar graph's backward garbage).
   */
  private readonly one: MaybeGrad[] = [null];

  constructor(
    private readonly rt: Runtime,
    private readonly req: EngineRequest,
    readonly id: number,
    private readonly nested: boolean,
  ) {
    const n = req.inputs ? req.inputs.length : 0;
    this.captured = new Array<MaybeGrad>(n).fill(null);
    this.reached = new Array<boolean>(n).fill(false);
    // Gradients the pass makes are freed as soon as they are consumed, unless they become part of
    // a graph (createGraph) or user code sees them.
    this.reclaim = new Reclaimer(rt, !req.createGraph);
  }

  run(): MaybeGrad[] {
    const req = this.req;
    const rootEdges = rootEdgesOf(req.roots);
    this.findCaptures();
    const made: Tensor[] = [];
    const rootGrads = rootGradsOf(this.rt, req.roots, req.rootGrads, made);
    for (const t of made) this.reclaim.own(t);

    this.discover(rootEdges);
    if (req.inputs !== null) this.countNeeded();
    this.queueRoots(rootEdges, rootGrads);

    const events = this.rt.events;
    if (events.watching['backward:begin']) events.emit('backward:begin', { roots: req.roots.length, createGraph: req.createGraph });
    const executed = this.rt.gradMode.run(req.createGraph, false, () => this.runReady());
    if (events.watching['backward:end']) events.emit('backward:end', { nodes: executed });

    this.checkUnused();
    return this.captured;
  }

  /**
   * After the pass (errors included): give the runtime's collector back, drop the buffers and give
   * nested-over nodes their state back.
   */
  restore(): void {
    this.reclaim.end();
    if (!this.drained) for (const n of this.order) n._buf = null;
    for (let i = this.setAside.length - 1; i >= 0; i--) {
      const st = this.setAside[i]!;
      st.node._pass = st.pass;
      st.node._deps = st.deps;
      st.node._buf = st.buf;
    }
  }

  // ---- before the pass

  /** Where to capture the gradients of the requested inputs. */
  private findCaptures(): void {
    const { inputs, accumulate } = this.req;
    if (inputs === null) return;
    inputs.forEach((t, j) => {
      if (!(t instanceof Tensor)) throw new NablaError(`inputs[${j}] is not a Tensor`, { op: 'grad' });
      if (!t.requiresGrad) throw new NablaError('One of the differentiated Tensors does not require grad', { op: accumulate ? 'backward' : 'grad' });
      const [node, nr] = gradEdge(t);
      if (node instanceof AccumulateGrad) this.wantedLeaves.add(node);
      let list = this.captures.get(node!);
      if (!list) this.captures.set(node!, (list = []));
      list.push({ nr, j });
    });
  }

  /** Claims `node` for this pass, setting aside the state an enclosing pass keeps on it. */
  private claim(node: Node): void {
    if (this.nested && node._pass !== 0 && activePasses.has(Math.abs(node._pass))) {
      this.setAside.push({ node, pass: node._pass, deps: node._deps, buf: node._buf });
    }
    // Needed from the start in a plain backward; else not until `countNeeded` says so.
    node._pass = this.req.inputs === null ? this.id : -this.id;
    node._deps = 0;
    node._buf = null;
  }

  /**
   * Step 1: every node reachable from the roots, each counting the edges that reach it: in a plain
   * backward every node runs, so that is the number of gradients it waits for. `order` is its own
   * work list (each node is claimed and appended once, then its edges are read once), so deep
   * graphs need no recursion and no stack. When inputs were asked for, `countNeeded` needs
   * children before parents: a depth-first walk gives that order.
   */
  private discover(rootEdges: readonly Edge[]): void {
    if (this.req.inputs !== null) {
      this.discoverPostOrder(rootEdges);
      return;
    }
    const pass = this.id;
    const order = this.order;
    for (let r = 0; r < rootEdges.length; r++) {
      const root = rootEdges[r]![0]!;
      if (root._pass === pass) continue;
      this.claim(root);
      order.push(root);
    }
    for (let k = 0; k < order.length; k++) {
      const node = order[k]!;
      const e = node._e;
      if (typeof e === 'number') {
        // Most nodes: up to two edges, each to output 0, in the node's own fields.
        if (e === 0) continue;
        const c0 = node._c0;
        if (c0 !== null) {
          if (c0._pass !== pass) {
            this.claim(c0);
            order.push(c0);
          }
          c0._deps++;
        }
        if (e === 1) continue;
        const c1 = node._c1;
        if (c1 !== null) {
          if (c1._pass !== pass) {
            this.claim(c1);
            order.push(c1);
          }
          c1._deps++;
        }
      } else {
        for (let i = 0; i < e.length; i += 2) {
          const c = e[i] as Node | null;
          if (c === null) continue;
          if (c._pass !== pass) {
            this.claim(c);
            order.push(c);
          }
          c._deps++;
        }
      }
    }
  }

  /** `discover` in DFS post-order (an explicit stack): children before parents. */
  private discoverPostOrder(rootEdges: readonly Edge[]): void {
    const claimed = -this.id;
    const order = this.order;
    const stackNodes: Node[] = [];
    const stackNext: number[] = [];
    for (let r = 0; r < rootEdges.length; r++) {
      const root = rootEdges[r]![0]!;
      if (root._pass === claimed) continue;
      this.claim(root);
      stackNodes.push(root);
      stackNext.push(0);
      while (stackNodes.length) {
        const top = stackNodes.length - 1;
        const node = stackNodes[top]!;
        const i = stackNext[top]!;
        if (i < node._numEdges()) {
          stackNext[top] = i + 1;
          const child = node._childAt(i);
          if (child === null) continue;
          if (child._pass !== claimed) {
            this.claim(child);
            stackNodes.push(child);
            stackNext.push(0);
          }
          child._deps++;
        } else {
          stackNodes.pop();
          stackNext.pop();
          order.push(node);
        }
      }
    }
  }

  /**
   * Step 2, when inputs were asked for: only the nodes on a path to one of them run (post-order
   * visits children first), and each waits only for the gradients of those.
   */
  private countNeeded(): void {
    const order = this.order;
    const needed = this.id;
    for (let k = 0; k < order.length; k++) {
      const node = order[k]!;
      node._deps = 0;
      if (this.captures.has(node)) node._pass = needed;
      else {
        for (let i = 0, n = node._numEdges(); i < n; i++) {
          const c = node._childAt(i);
          if (c !== null && c._pass === needed) {
            node._pass = needed;
            break;
          }
        }
      }
    }
    for (let k = 0; k < order.length; k++) {
      const node = order[k]!;
      if (node._pass !== needed) continue;
      for (let i = 0, n = node._numEdges(); i < n; i++) {
        const c = node._childAt(i);
        if (c !== null && c._pass === needed) c._deps++;
      }
    }
  }

  /**
   * Each root that must run receives its gradient (the one the pass made for a root that need not
   * run is freed); those with nothing else to wait for start the queue (a root listed twice is
   * queued once: -1).
   */
  private queueRoots(rootEdges: readonly Edge[], rootGrads: readonly Tensor[]): void {
    for (let r = 0; r < rootEdges.length; r++) {
      const n = rootEdges[r]![0]!;
      if (n._pass === this.id) this.addGrad(n, rootEdges[r]![1], rootGrads[r]!);
      else this.reclaim.discard(rootGrads[r]);
    }
    for (let r = 0; r < rootEdges.length; r++) {
      const n = rootEdges[r]![0]!;
      if (n._pass === this.id && n._deps === 0) {
        n._deps = -1;
        this.ready.push(n);
      }
    }
  }

  // ---- step 3: run

  /** Runs ready nodes until none is left; returns how many ran. */
  private runReady(): number {
    let executed = 0;
    try {
      while (this.ready.size) {
        this.runNode(this.ready.pop());
        executed++;
      }
      this.drained = true;
    } catch (e) {
      // Nothing will consume the gradients still buffered, and the caller receives none.
      this.reclaim.abort();
      throw e;
    }
    return executed;
  }

  /** One node: hooks on what it received, captures, apply, then hand its results down. */
  private runNode(node: Node): void {
    const events = this.rt.events;
    if (events.watching['backward:node']) events.emit('backward:node', { node: node.name(), seq: node.seq });
    const consumed = node._buf;
    node._buf = null;
    // Hooks may replace entries; what is released at the end is what the buffer held (`consumed`).
    let buf = this.gradsOf(node, consumed);
    // Hooks live in the node's extras: one check for the common node without any.
    const extras = node._hasExtras;
    if (extras && node.tensorHooks) runTensorHooks(node, buf, this.reclaim);
    if (extras && node.retainHooks) node.retainHooks.forEach((h, k) => h && buf[k] && h(buf[k]!));
    if (this.captures.size > 0) this.capture(node, buf);
    if (extras && node.preHooks) buf = runPreHooks(node, buf, this.reclaim);

    if (node instanceof AccumulateGrad) {
      // Accumulation copies what it keeps (or keeps it in a graph, where nothing is reclaimed).
      if (this.req.accumulate && (this.req.inputs === null || this.wantedLeaves.has(node))) node.apply(buf, this.reclaim);
      this.one[0] = null;
      this.releaseAll(consumed);
      return;
    }

    this.reclaim.watch(node instanceof OpNode);
    const gradIn = this.apply(node, buf, this.loanFor(node, buf));
    this.one[0] = null;
    if (!this.req.keepGraph) node.release();
    this.passDown(node, gradIn);
    this.reclaim.settle();
    this.releaseAll(consumed);
  }

  /**
   * The gradients w.r.t. a node's outputs as an array, from what its buffer held: a one-output
   * node's gradient is held bare and handed over in the pass's array `one` (emptied once the node
   * ran) unless user code may see the array (hooks, anomaly stack, captures) or keep it (custom
   * Functions receive the gradients spread, so they never see it); hooks get copies they may edit.
   */
  private gradsOf(node: Node, held: MaybeGrad[] | Tensor | null): MaybeGrad[] {
    if (held === null) return nulls(node.outMeta.length);
    if (held instanceof Tensor) {
      if (node._hasExtras || this.captures.size > 0) return [held];
      const one = this.one;
      one[0] = held;
      return one;
    }
    return node.tensorHooks ? held.slice() : held;
  }

  /**
   * The gradient a built-in formula may write its result into (`OpNode.writable`), or null: one
   * the pass made and only this node's buffer holds (`exclusive`; never in a pass that builds a
   * graph, which claims nothing), handed over in the pass's array, so no hook or capture saw it.
   * A loan that is taken is passed down as the formula's result, so the count of buffer slots that
   * hold it stays right with no further bookkeeping.
   */
  private loanFor(node: Node, buf: MaybeGrad[]): Tensor | null {
    if (buf !== this.one || !(node instanceof OpNode)) return null;
    const g = buf[0]!;
    return this.reclaim.exclusive(g) ? g : null;
  }

  /**
   * The node's gradients w.r.t. its inputs (missing output gradients become zeros unless it takes
   * nulls); `lend`: the gradient its formula may write into (see `loanFor`).
   */
  private apply(node: Node, buf: MaybeGrad[], lend: Tensor | null): MaybeGrad[] {
    let first: Tensor | null = null;
    let missing = false;
    for (let k = 0; k < buf.length; k++) {
      const g = buf[k];
      if (g) first ??= g;
      else missing = true;
    }
    const edges = node._numEdges();
    if (first === null) return nulls(edges);
    if (missing && !(node as { keepsNullGrads?: boolean }).keepsNullGrads) {
      const rt = first.rt;
      buf = buf.map((g, k) => g ?? makeZeros(rt, node.outMeta[k]!));
    }
    let gradIn: MaybeGrad[];
    try {
      lendGrad(lend);
      gradIn = node.apply(buf);
      lendGrad(null);
      // A formula that hands its gradients back as they came must not return the pass's array.
      if (gradIn === this.one) gradIn = gradIn.slice();
    } catch (e) {
      lendGrad(null);
      if (this.rt.gradMode.anomaly || node.stack) throw anomalyError(node, `Function '${node.name()}' failed: ${(e as Error).message}`, e);
      throw e;
    }
    if (!Array.isArray(gradIn) || gradIn.length !== edges) {
      throw new NablaError(
        `function ${node.name()} returned an incorrect number of gradients (expected ${edges}, got ${Array.isArray(gradIn) ? gradIn.length : typeof gradIn})`,
        { op: node.name() },
      );
    }
    if (node._hasExtras && node.postHooks) gradIn = runPostHooks(node, gradIn, buf, this.reclaim);
    if (this.rt.gradMode.anomaly) {
      gradIn.forEach((g, i) => {
        if (g && hasNaN(g)) throw anomalyError(node, `Function '${node.name()}' returned nan values in its ${i}th output.`);
      });
    }
    return gradIn;
  }

  /** Sends each input gradient down its edge; a child whose last gradient arrived becomes ready. */
  private passDown(node: Node, gradIn: MaybeGrad[]): void {
    const needed = this.id;
    const e = node._e;
    if (typeof e === 'number') {
      if (e === 0) return;
      const c0 = node._c0;
      if (c0 !== null && c0._pass === needed) this.sendDown(node, c0, 0, gradIn[0], 0);
      if (e === 1) return;
      const c1 = node._c1;
      if (c1 !== null && c1._pass === needed) this.sendDown(node, c1, 0, gradIn[1], 1);
      return;
    }
    for (let i = 0; 2 * i < e.length; i++) {
      const child = e[2 * i] as Node | null;
      if (child !== null && child._pass === needed) this.sendDown(node, child, e[2 * i + 1] as number, gradIn[i], i);
    }
  }

  /** Edge `i` of `node`: `g` (if any) goes to output `nr` of `child`, which then waits for one gradient less. */
  private sendDown(node: Node, child: Node, nr: number, g: MaybeGrad | undefined, i: number): void {
    if (g) {
      const meta = child.outMeta[nr]!;
      // Most gradients already fit (a formula's result has its operand's shape array): no call, no name.
      const fits = g instanceof Tensor && g.shape === meta.shape && g.dtype === meta.dtype && g._ref.backend.device === meta.device;
      this.addGrad(child, nr, fits ? g : fitGrad(g, meta, node.name(), i));
    }
    if (--child._deps === 0) this.ready.push(child);
  }

  /**
   * Adds `g` to what output `nr` of `node` has received: kept bare by a one-output node (see
   * `gradsOf`), else in a slot per output.
   */
  private addGrad(node: Node, nr: number, g: Tensor): void {
    const buf = node._buf;
    if (buf === null) {
      if (nr === 0 && node.outMeta.length === 1) node._buf = g;
      else (node._buf = nulls(node.outMeta.length))[nr] = g;
      this.reclaim.hold(g);
    } else if (buf instanceof Tensor) {
      node._buf = this.sum(buf, g);
    } else {
      const prev = buf[nr];
      if (prev) buf[nr] = this.sum(prev, g);
      else {
        buf[nr] = g;
        this.reclaim.hold(g);
      }
    }
  }

  /**
   * `prev + g` for the buffer slot that holds `prev`. A sum only this slot holds is added into in
   * place (PyTorch's InputBuffer does the same): a node whose output feeds thousands of others (a
   * shared weight) would otherwise make and free a tensor per contribution.
   */
  private sum(prev: Tensor, g: Tensor): Tensor {
    if (prev !== g && this.reclaim.exclusive(prev)) {
      // `add_` without its checks: exclusive() is stricter than they are.
      runBinary(add, prev, g, prev);
      prev._ref.version++;
      return prev;
    }
    const sum = prev.add(g);
    this.reclaim.hold(sum);
    this.reclaim.release(prev);
    return sum;
  }

  private releaseAll(consumed: MaybeGrad[] | Tensor | null): void {
    if (consumed instanceof Tensor) this.reclaim.release(consumed);
    else if (consumed) for (let k = 0; k < consumed.length; k++) this.reclaim.release(consumed[k]);
  }

  // ---- captures, and the end of the pass

  /** Gradients of requested inputs: accumulated (backward({ inputs })) or handed back (grad). */
  private capture(node: Node, buf: MaybeGrad[]): void {
    const caps = this.captures.get(node);
    if (!caps) return;
    for (const { nr, j } of caps) {
      this.reached[j] = true;
      const g = buf[nr] ?? null;
      if (this.req.accumulate) {
        if (!(node instanceof AccumulateGrad) && g) accumulateInto(this.req.inputs![j]!, g);
      } else {
        this.captured[j] = g;
        this.reclaim.escape(g);
      }
    }
  }

  /** `autograd.grad` of an input no root depends on fails unless `allowUnused`. */
  private checkUnused(): void {
    const req = this.req;
    if (req.inputs && !req.allowUnused && !req.accumulate && this.reached.some((r) => !r)) {
      for (const g of this.captured) this.reclaim.discard(g);
      throw new NablaError(
        'One of the differentiated Tensors appears to not have been used in the graph. Set allowUnused: true if this is the desired behavior.',
        { op: 'grad' },
      );
    }
  }
}

function nulls(n: number): MaybeGrad[] {
  const a = new Array<MaybeGrad>(n);
  for (let i = 0; i < n; i++) a[i] = null;
  return a;
}

