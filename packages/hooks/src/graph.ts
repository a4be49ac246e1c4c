/**
 * The autograd graph behind tensors, as plain data for pictures (torchviz's `make_dot`): gradient
 * nodes named as PyTorch prints them, leaves with parameter names and shapes, saved tensors,
 * outputs; optionally collapsed into one box per module (`moduleScopes`). Nothing is read from a
 * device and nothing is unpacked.
 */
import { AccumulateGrad, Node, OpNode, type Tensor } from '@nabla/core';
import { registerModuleForwardHook, registerModuleForwardPreHook, type Module } from '@nabla/nn';

export type VizKind = 'fn' | 'param' | 'saved' | 'output' | 'module';

export interface VizNode {
  id: string;
  kind: VizKind;
  /** The text in the box (lines separated by `\n`). */
  label: string;
  /** Hover details: shape, dtype, device, bytes. */
  info: string;
  /** Module path for collapsed graphs (and `data-module` in HTML). */
  module?: string;
}

export interface VizEdge {
  from: string;
  to: string;
  /** Saved-tensor links are drawn without an arrow. */
  undirected?: boolean;
}

export interface VizGraph {
  nodes: VizNode[];
  edges: VizEdge[];
  /** Node and edge statements in torchviz's body (its graph size grows with them). */
  statements?: number;
}

export interface GraphOptions {
  /** Parameter names: a record, a Map, or `model.namedParameters()`. Leaves are labelled with them. */
  params?: Record<string, Tensor> | Map<string, Tensor> | Iterable<readonly [string, Tensor]> | null;
  /** Draw the tensors each node saved for backward (orange), as torchviz's `show_saved`. */
  showSaved?: boolean;
  /** Add each node's attributes (dims, shapes, scalars) to its label, as torchviz's `show_attrs`. */
  showAttrs?: boolean;
  /** One box per module (at `depth`) instead of its nodes: the scopes from `moduleScopes`. */
  collapse?: ModuleScopes | null;
  /** How deep to collapse: 1 = the model's children (default), 2 = their children, ... */
  depth?: number;
}

/** torchviz's `size_to_str`: `(2, 3)`. */
export const sizeStr = (shape: readonly number[]): string => `(${shape.join(', ')})`;

const BYTES: Record<string, number> = { float64: 8, float32: 4, int32: 4, float16: 2, bfloat16: 2, bool: 1 };
const meta = (shape: readonly number[], dtype: string, device: string): string =>
  `shape ${sizeStr(shape)}, ${dtype}, ${device}, ${shape.reduce((a, b) => a * b, 1) * (BYTES[dtype] ?? 4)} bytes`;

function paramNames(p: GraphOptions['params']): Map<Tensor, string> {
  const out = new Map<Tensor, string>();
  if (!p) return out;
  const entries: Iterable<readonly [string, Tensor]> = p instanceof Map ? p.entries() : Symbol.iterator in Object(p) ? (p as Iterable<readonly [string, Tensor]>) : Object.entries(p);
  for (const [name, t] of entries) out.set(t, name);
  return out;
}

function attrText(node: Node): string {
  if (!(node instanceof OpNode)) return '';
  const attrs = node.attrs as Record<string, unknown> | null | undefined;
  if (!attrs || typeof attrs !== 'object') return '';
  const parts: string[] = [];
  for (const [k, v] of Object.entries(attrs)) {
    if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string') parts.push(`${k}: ${String(v)}`);
    else if (Array.isArray(v) && v.every((x) => typeof x === 'number')) parts.push(`${k}: ${sizeStr(v as number[])}`);
  }
  return parts.join('\n');
}

/**
 * Records which graph nodes each module's forward creates, so pictures can collapse a module into
 * one box. Start it before the forward, `remove()` it after.
 *
 * @example
 * const scopes = moduleScopes(model);
 * const y = model.call(x);
 * scopes.remove();
 * const svg = toSVG(y, { params: model.namedParameters(), collapse: scopes });
 */
export class ModuleScopes {
  /** `[path, first seq, last seq]` per module call, innermost calls first. */
  readonly ranges: [string, number, number][] = [];
  private readonly handles: { remove(): void }[];
  private readonly open: [Module, number][] = [];

  constructor(model: Module) {
    // Paths by module, held weakly: the scopes never keep the model alive.
    const paths = new WeakMap<Module, string>(model.namedModules().filter(([n]) => n !== '').map(([n, m]) => [m, n] as [Module, string]));
    const path = (m: Module): string | null => paths.get(m) ?? null;
    this.handles = [
      registerModuleForwardPreHook((m) => void this.open.push([m, nextSeq()])),
      registerModuleForwardHook(
        (m) => {
          const i = this.open.map(([o]) => o).lastIndexOf(m);
          if (i < 0) return;
          const [, start] = this.open.splice(i, 1)[0]!;
          const p = path(m);
          if (p !== null) this.ranges.push([p, start, nextSeq()]);
        },
        { alwaysCall: true },
      ),
    ];
  }

  /** The module (path cut at `depth`) whose forward made `node`, or null. */
  moduleOf(node: Node, depth: number): string | null {
    let best: [string, number, number] | null = null;
    for (const r of this.ranges) {
      if (node.seq > r[1] && node.seq < r[2] && r[0].split('.').length <= depth) {
        if (best === null || r[2] - r[1] < best[2] - best[1]) best = r;
      }
    }
    return best ? best[0] : null;
  }

  remove(): void {
    for (const h of this.handles) h.remove();
  }
}

/** A throwaway node: its `seq` marks a point in graph-creation order. */
class Marker extends Node {
  name(): string {
    return 'Marker';
  }
  apply(): never[] {
    return [];
  }
}
const nextSeq = (): number => new Marker([], []).seq;

/**
 * The graph behind `roots` as nodes and edges, built in torchviz's order: each output, then depth
 * first from its gradFn (saved tensors, the leaf of an AccumulateGrad, the node, then each input
 * edge followed by its subgraph). Ids (`n0`, `n1`, ...) number nodes by first appearance in that
 * statement order, so the DOT text is stable and comparable with torchviz's.
 */
export function buildGraph(roots: Tensor | readonly Tensor[], opts: GraphOptions = {}): VizGraph {
  const outs = Array.isArray(roots) ? (roots as Tensor[]) : [roots as Tensor];
  const names = paramNames(opts.params);
  const depth = opts.depth ?? 1;
  const collapse = opts.collapse ?? null;
  const nodes: VizNode[] = [];
  const edges: VizEdge[] = [];
  const keyOf = new Map<object, string>();
  let nextKey = 0;
  const key = (o: object): string => {
    let k = keyOf.get(o);
    if (k === undefined) keyOf.set(o, (k = `k${nextKey++}`));
    return k;
  };
  // Statement order (torchviz's dot.body) decides the ids.
  const order: string[] = [];
  const node = (n: VizNode): void => {
    order.push(n.id);
    nodes.push(n);
  };
  const edgeSet = new Set<string>();
  const edge = (from: string, to: string, undirected = false): void => {
    if (from === to) return;
    // torchviz repeats an edge per use (x * x: two); collapsed boxes would repeat it per node.
    const k = `${from}>${to}`;
    if (collapse && edgeSet.has(k)) return;
    edgeSet.add(k);
    order.push(from, to);
    edges.push(undirected ? { from, to, undirected } : { from, to });
  };
  const boxes = new Map<string, VizNode & { count: number }>();
  const target = (fn: Node): string => {
    const mod = collapse && !(fn instanceof AccumulateGrad) ? collapse.moduleOf(fn, depth) : null;
    if (mod === null) return key(fn);
    let box = boxes.get(mod);
    if (!box) {
      box = { id: `module:${mod}`, kind: 'module', label: mod, info: '', module: mod, count: 0 };
      boxes.set(mod, box);
      node(box);
    }
    return box.id;
  };
  const seen = new Set<Node>();
  const visit = (fn: Node): void => {
    if (seen.has(fn)) return;
    seen.add(fn);
    const me = target(fn);
    const box = boxes.get(me.startsWith('module:') ? me.slice(7) : '');
    const saved = fn.savedInfo();
    if (!box && opts.showSaved) {
      // torchviz lists them as dir() does: by name.
      for (const s of [...saved].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
        const sid = `${me}/${s.name}`;
        edge(me, sid, true);
        node({ id: sid, kind: 'saved', label: `${s.name}\n ${sizeStr(s.shape)}`, info: `saved ${s.name}: ${meta(s.shape, s.dtype, s.device)}` });
      }
    }
    if (fn instanceof AccumulateGrad) {
      const v = fn.variable;
      const name = names.get(v) ?? '';
      node({ id: key(v), kind: 'param', label: `${name}\n ${sizeStr(v.shape)}`, info: `${name || 'leaf'}: ${meta(v.shape, v.dtype, v.device)}` });
      edge(key(v), me);
    }
    if (box) box.count++;
    else {
      const attrs = opts.showAttrs ? attrText(fn) : '';
      const info = [fn.name(), ...fn.outMeta.map((m, i) => `output ${i}: ${meta(m.shape, m.dtype, m.device)}`), ...saved.map((s) => `saved ${s.name}: ${meta(s.shape, s.dtype, s.device)}`)].join('\n');
      node({ id: me, kind: 'fn', label: attrs ? `${fn.name()}\n${attrs}` : fn.name(), info });
    }
    for (const [u] of fn.nextFunctions) {
      if (u === null) continue;
      // The edge's source id is decided by first appearance: a collapsed box may not exist yet.
      const from = target(u);
      edge(from, me);
      visit(u);
    }
  };
  for (const t of outs) {
    const tid = key(t);
    const name = names.get(t) ?? '';
    node({ id: tid, kind: t.gradFn === null && t.requiresGrad ? 'param' : 'output', label: `${name}\n ${sizeStr(t.shape)}`, info: `output: ${meta(t.shape, t.dtype, t.device)}` });
    if (t.gradFn !== null) {
      visit(t.gradFn);
      edge(target(t.gradFn), tid);
    }
  }
  for (const b of boxes.values()) {
    b.label = `${b.module}\n${b.count} node${b.count === 1 ? '' : 's'}`;
    b.info = `module ${b.module}: ${b.count} graph nodes`;
  }
  const ids = new Map<string, string>();
  for (const k of order) if (!ids.has(k)) ids.set(k, `n${ids.size}`);
  return {
    nodes: nodes.map((n) => ({ ...n, id: ids.get(n.id)! })),
    edges: edges.map((e) => ({ ...e, from: ids.get(e.from)!, to: ids.get(e.to)! })),
    statements: nodes.length + edges.length,
  };
}

/** Starts recording module scopes for `collapse` (see {@link ModuleScopes}). */
export function moduleScopes(model: Module): ModuleScopes {
  return new ModuleScopes(model);
}
