/**
 * Graph explorer lesson: an expression becomes Nabla ops on leaves that require grad; backward is
 * recorded node by node (the runtime's `backward:node` event gives the order, a pre-hook on each
 * node the gradient it receives), and a tensor hook on a leaf can rewrite its gradient.
 */
import * as nabla from '@nabla/core';
import type { Node, Tensor } from '@nabla/core';
import type { Ast } from './expression.js';

export interface Built {
  readonly out: Tensor;
  /** The leaves, by variable name (x, y, ...). */
  readonly leaves: Map<string, Tensor>;
  /** Every tensor an op made, by the graph node that made it: its forward value, for hovering. */
  readonly values: Map<Node, Tensor>;
}

/** Builds the expression with Nabla ops; each variable becomes a leaf with `requiresGrad`. */
export function build(ast: Ast, inputs: Map<string, number | number[]>, device: string): Built {
  const leaves = new Map<string, Tensor>();
  const values = new Map<Node, Tensor>();
  const leaf = (name: string): Tensor => {
    let t = leaves.get(name);
    if (!t) {
      const v = inputs.get(name);
      if (v === undefined) throw new Error(`no value for ${name}: add it to the values, e.g. ${name} = 1`);
      t = nabla.tensor(v, { requiresGrad: true, device });
      leaves.set(name, t);
    }
    return t;
  };
  const made = (t: Tensor): Tensor => {
    if (t.gradFn) values.set(t.gradFn, t);
    return t;
  };
  const ev = (a: Ast): Tensor | number => {
    switch (a.kind) {
      case 'num':
        return a.value;
      case 'var':
        return leaf(a.name);
      case 'neg': {
        const v = ev(a.arg);
        return typeof v === 'number' ? -v : made(v.neg());
      }
      case 'call': {
        const v = ev(a.arg);
        const t = typeof v === 'number' ? nabla.tensor(v, { device }) : v;
        return made(t[a.fn]());
      }
      case 'bin': {
        const l = ev(a.left);
        const r = ev(a.right);
        if (typeof l === 'number' && typeof r === 'number') {
          return { '+': l + r, '-': l - r, '*': l * r, '/': l / r, '^': l ** r }[a.op];
        }
        // Tensor on the left: a method (y - 2 is SubBackward0, as in PyTorch); a number on the
        // left: the function form (2 - y), which PyTorch records as its reversed op.
        const fn = { '+': nabla.add, '-': nabla.sub, '*': nabla.mul, '/': nabla.div, '^': nabla.pow }[a.op];
        return made(fn(l, r));
      }
    }
  };
  const result = ev(ast);
  const out = typeof result === 'number' ? nabla.tensor(result, { device }) : result;
  return { out, leaves, values };
}

/** backward() needs a scalar: a non-scalar output is summed first, as `z.sum().backward()`. */
export const toScalar = (out: Tensor): Tensor => (out.numel() === 1 ? out : out.sum());

export interface BackwardStep {
  /** PyTorch's node name: MulBackward0, AccumulateGrad, ... */
  readonly name: string;
  readonly node: Node;
  /** The gradient flowing into the node (w.r.t. its output), read after backward. */
  readonly gradIn: (number | number[])[];
}

/** All graph nodes below `root`, each once, depth first (the order `toSVG` numbers them in). */
export function graphNodes(root: Node): Node[] {
  const seen = new Set<Node>();
  const visit = (n: Node): void => {
    if (seen.has(n)) return;
    seen.add(n);
    for (const [next] of n.nextFunctions) if (next) visit(next);
  };
  visit(root);
  return [...seen];
}

/**
 * Runs `out.backward()` and records it: the order nodes ran in (the runtime's lifecycle event)
 * and the gradient each one received (a pre-hook per node).
 */
export async function recordBackward(root: Tensor): Promise<BackwardStep[]> {
  if (!root.gradFn) throw new Error('nothing requires grad: use a variable in the expression');
  const nodes = new Map(graphNodes(root.gradFn).map((n) => [n.seq, n]));
  const received = new Map<Node, Tensor[]>();
  const hooks = [...nodes.values()].map((n) =>
    n.registerPrehook((gradOutputs) => {
      received.set(n, gradOutputs.filter((g): g is Tensor => g !== null));
    }),
  );
  const order: Node[] = [];
  const onNode = (e: { node: string; seq: number }): void => {
    const n = nodes.get(e.seq);
    if (n) order.push(n);
  };
  const events = root.rt.events;
  events.on('backward:node', onNode);
  try {
    root.backward();
  } finally {
    events.off('backward:node', onNode);
    for (const h of hooks) h.remove();
  }
  const steps: BackwardStep[] = [];
  for (const node of order) {
    const grads = received.get(node) ?? [];
    // Async reads: the same code runs on the GPU devices, which cannot read synchronously.
    const gradIn = await Promise.all(grads.map((g) => g.tolistAsync() as Promise<number | number[]>));
    steps.push({ name: node.name(), node, gradIn });
  }
  return steps;
}

export type HookKind = 'none' | 'double' | 'zero' | 'clamp';

/** A tensor hook on a leaf: it sees the gradient on its way to `.grad` and may replace it. */
export function attachHook(leaf: Tensor, kind: HookKind): { remove(): void } {
  if (kind === 'none') return { remove() {} };
  return leaf.registerHook((grad) => (kind === 'double' ? grad.mul(2) : kind === 'zero' ? grad.mul(0) : grad.clamp(-1, 1)));
}
