/**
 * The backward engine's calls into user code (engine.ts): tensor hooks, node pre-hooks and node
 * post-hooks. Each may replace gradients; what a hook sees or returns escapes the reclaimer, so the
 * pass never frees or writes into it, and what a hook makes is not the pass's.
 */
import type { Node, MaybeGrad } from './node.js';
import { fitGrad } from './engine-support.js';
import type { Reclaimer } from './reclaim.js';

/** Tensor hooks, per output; a hook's result replaces the gradient. */
export function runTensorHooks(node: Node, buf: MaybeGrad[], reclaim: Reclaimer): void {
  node.tensorHooks!.forEach((hooks, k) => {
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

/** Node pre-hooks: they see the gradients of the node's outputs and may replace them. */
export function runPreHooks(node: Node, buf: MaybeGrad[], reclaim: Reclaimer): MaybeGrad[] {
  for (const h of node.preHooks!.slice()) {
    for (const g of buf) reclaim.escape(g);
    const r = reclaim.unwatched(() => h(buf.slice()));
    if (r) {
      buf = r.map((g, k) => (g ? fitGrad(g, node.outMeta[k]!, 'prehook', k) : null));
      for (const g of buf) reclaim.escape(g);
    }
  }
  return buf;
}

/** Post hooks see the gradients fitted to their inputs (PyTorch validates first). */
export function runPostHooks(node: Node, gradIn: MaybeGrad[], buf: MaybeGrad[], reclaim: Reclaimer): MaybeGrad[] {
  gradIn = gradIn.map((g, i) => {
    const child = node._childAt(i);
    return g && child ? fitGrad(g, child.outMeta[node._nrAt(i)]!, node.name(), i) : g;
  });
  for (const h of node.postHooks!.slice()) {
    for (const g of gradIn) reclaim.escape(g);
    for (const g of buf) reclaim.escape(g);
    const r = reclaim.unwatched(() => h(gradIn.slice(), buf.slice()));
    if (r) {
      gradIn = r;
      for (const g of gradIn) reclaim.escape(g);
    }
  }
  return gradIn;
}
