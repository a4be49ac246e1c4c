/**
 * A layered (Sugiyama-style) layout in plain TypeScript for graph pictures: layers by longest path
 * from the sources (leaves at the top, outputs at the bottom, as Graphviz draws torchviz graphs),
 * order within layers by a few barycenter sweeps, then coordinates. Linear in nodes and edges per
 * sweep, so thousands of nodes lay out in milliseconds.
 */
import type { VizGraph } from './graph.js';

export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface Layout {
  pos: Map<string, Box>;
  width: number;
  height: number;
}

const CHAR_W = 6.2;
const LINE_H = 12;
const PAD_X = 8;
const GAP_X = 14;
const GAP_Y = 34;
const MARGIN = 10;
const SWEEPS = 4;

export function layout(g: VizGraph): Layout {
  const ids = g.nodes.map((n) => n.id);
  const index = new Map(ids.map((id, i) => [id, i]));
  const n = ids.length;
  const succ: number[][] = ids.map(() => []);
  const pred: number[][] = ids.map(() => []);
  for (const e of g.edges) {
    const a = index.get(e.from);
    const b = index.get(e.to);
    if (a === undefined || b === undefined || a === b) continue;
    succ[a]!.push(b);
    pred[b]!.push(a);
  }
  // Layers: longest path from the sources, in topological order (Kahn); a cycle cannot happen in
  // an autograd graph, but leftovers would simply go to layer 0.
  const layerOf = new Array<number>(n).fill(0);
  const indeg = pred.map((p) => p.length);
  const queue: number[] = [];
  for (let i = 0; i < n; i++) if (indeg[i] === 0) queue.push(i);
  for (let q = 0; q < queue.length; q++) {
    const u = queue[q]!;
    for (const v of succ[u]!) {
      layerOf[v] = Math.max(layerOf[v]!, layerOf[u]! + 1);
      if (--indeg[v]! === 0) queue.push(v);
    }
  }
  // Pull sources down next to their first consumer (leaves sit just above the node that uses them).
  for (let i = 0; i < n; i++) {
    if (pred[i]!.length === 0 && succ[i]!.length > 0) layerOf[i] = Math.max(0, Math.min(...succ[i]!.map((v) => layerOf[v]!)) - 1);
  }
  const depth = n ? Math.max(...layerOf) + 1 : 0;
  const layers: number[][] = Array.from({ length: depth }, () => []);
  for (const u of queue.length === n ? queue : ids.map((_, i) => i)) layers[layerOf[u]!]!.push(u);
  const order = new Array<number>(n).fill(0);
  const renumber = (layer: number[]): void => layer.forEach((u, k) => (order[u] = k));
  layers.forEach(renumber);
  const sweep = (l: number, neighbours: number[][]): void => {
    const layer = layers[l]!;
    const key = new Map<number, number>();
    for (const u of layer) {
      const nb = neighbours[u]!;
      key.set(u, nb.length ? nb.reduce((s, v) => s + order[v]!, 0) / nb.length : order[u]!);
    }
    layer.sort((a, b) => key.get(a)! - key.get(b)! || order[a]! - order[b]!);
    renumber(layer);
  };
  for (let s = 0; s < SWEEPS; s++) {
    for (let l = 1; l < depth; l++) sweep(l, pred);
    for (let l = depth - 2; l >= 0; l--) sweep(l, succ);
  }
  // Sizes, then x positions: each layer packed left to right, then centred on the widest one.
  const size = g.nodes.map((node) => {
    const lines = node.label.split('\n');
    return { w: Math.max(...lines.map((l) => l.trim().length)) * CHAR_W + 2 * PAD_X, h: lines.length * LINE_H + 6 };
  });
  const pos = new Map<string, Box>();
  const widths = layers.map((layer) => layer.reduce((s, u) => s + size[u]!.w, 0) + GAP_X * Math.max(0, layer.length - 1));
  const width = Math.max(0, ...widths) + 2 * MARGIN;
  let y = MARGIN;
  layers.forEach((layer, l) => {
    let x = (width - widths[l]!) / 2;
    const rowH = Math.max(0, ...layer.map((u) => size[u]!.h));
    for (const u of layer) {
      pos.set(ids[u]!, { x, y, w: size[u]!.w, h: size[u]!.h });
      x += size[u]!.w + GAP_X;
    }
    y += rowH + GAP_Y;
  });
  return { pos, width, height: y - GAP_Y + MARGIN };
}
