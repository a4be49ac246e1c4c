/**
 * `toDot`: torchviz's `make_dot` as Graphviz DOT text (same colours and node attributes), and
 * `toSVG` / `toGraphHTML`: the same picture drawn here, without a graphviz binary (layout.ts).
 */
import type { Tensor } from '@nabla/core';
import { buildGraph, type GraphOptions, type VizGraph, type VizKind } from './graph.js';
import { layout, type Layout } from './layout.js';

/** torchviz's fill colours. */
export const FILL: Record<VizKind, string> = {
  fn: 'lightgrey',
  param: 'lightblue',
  saved: 'orange',
  output: 'darkolivegreen1',
  module: 'lightyellow',
};

const dotStr = (s: string): string => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;

/** DOT text of an already built graph. */
export function graphToDot(g: VizGraph): string {
  // torchviz's resize_graph: 0.15 inch per body statement, at least 12.
  const size = String(Math.max(12, (g.statements ?? g.nodes.length + g.edges.length) * 0.15));
  const lines = [
    'digraph {',
    `\tgraph [size="${size},${size}"]`,
    '\tnode [align=left fontname=monospace fontsize=10 height=0.2 ranksep=0.1 shape=box style=filled]',
  ];
  for (const n of g.nodes) {
    lines.push(n.kind === 'fn' ? `\t${n.id} [label=${dotStr(n.label)}]` : `\t${n.id} [label=${dotStr(n.label)} fillcolor=${FILL[n.kind]}]`);
  }
  for (const e of g.edges) lines.push(e.undirected ? `\t${e.from} -> ${e.to} [dir=none]` : `\t${e.from} -> ${e.to}`);
  lines.push('}');
  return lines.join('\n') + '\n';
}

/**
 * The autograd graph behind `tensor` as Graphviz DOT text, as torchviz's `make_dot(y, params)`:
 * gradient nodes (`MulBackward0`), leaves in blue with their parameter names and shapes, saved
 * tensors in orange (`showSaved`), outputs in green.
 *
 * @example
 * const x = nabla.tensor([1, 2], { requiresGrad: true });
 * const y = nabla.tensor([3, 4], { requiresGrad: true });
 * const z = x.add(y).mul(y.sub(2));
 * writeFileSync('z.dot', toDot(z, { params: { x, y } }));   // dot -Tsvg z.dot > z.svg
 */
export function toDot(tensor: Tensor | readonly Tensor[], opts: GraphOptions = {}): string {
  return graphToDot(buildGraph(tensor, opts));
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** CSS colours for torchviz's X11 names. */
const CSS: Record<VizKind, string> = { fn: '#d3d3d3', param: '#add8e6', saved: '#ffa500', output: '#caff70', module: '#ffffe0' };

function svgOf(g: VizGraph, lay: Layout): string {
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="autograd-graph" width="${Math.ceil(lay.width)}" height="${Math.ceil(lay.height)}" viewBox="0 0 ${Math.ceil(lay.width)} ${Math.ceil(lay.height)}" font-family="monospace" font-size="10">`,
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#333"/></marker></defs>',
    '<rect width="100%" height="100%" fill="white"/>',
  );
  for (const e of g.edges) {
    const a = lay.pos.get(e.from)!;
    const b = lay.pos.get(e.to)!;
    const x1 = a.x + a.w / 2;
    const y1 = a.y + a.h;
    const x2 = b.x + b.w / 2;
    const y2 = b.y;
    const my = (y1 + y2) / 2;
    parts.push(`<path class="edge" d="M${x1.toFixed(1)},${y1.toFixed(1)} C${x1.toFixed(1)},${my.toFixed(1)} ${x2.toFixed(1)},${my.toFixed(1)} ${x2.toFixed(1)},${y2.toFixed(1)}" fill="none" stroke="#333" stroke-width="0.8"${e.undirected ? '' : ' marker-end="url(#arrow)"'}/>`);
  }
  for (const n of g.nodes) {
    const p = lay.pos.get(n.id)!;
    const lines = n.label.split('\n');
    const text = lines.map((l, i) => `<tspan x="${(p.x + p.w / 2).toFixed(1)}" y="${(p.y + 12 + i * 12).toFixed(1)}">${esc(l.trim())}</tspan>`).join('');
    parts.push(
      `<g class="node ${n.kind}" data-id="${n.id}"${n.module ? ` data-module="${esc(n.module)}"` : ''}><title>${esc(n.info || n.label)}</title>` +
        `<rect x="${p.x.toFixed(1)}" y="${p.y.toFixed(1)}" width="${p.w.toFixed(1)}" height="${p.h.toFixed(1)}" fill="${CSS[n.kind]}" stroke="#222" stroke-width="0.6"/>` +
        `<text text-anchor="middle">${text}</text></g>`,
    );
  }
  parts.push('</svg>');
  return parts.join('\n');
}

/**
 * The picture of `toDot`, laid out in layers here (no graphviz binary) as SVG text. Hovering a node
 * shows its shape, dtype, device and bytes (SVG `<title>`). Thousands of nodes stay readable with
 * `collapse` (one box per module).
 *
 * @example
 * writeFileSync('mlp.svg', toSVG(loss, { params: model.namedParameters() }));
 */
export function toSVG(tensor: Tensor | readonly Tensor[], opts: GraphOptions = {}): string {
  const g = buildGraph(tensor, opts);
  return svgOf(g, layout(g));
}

/** `toSVG` of an already built graph. */
export function graphToSVG(g: VizGraph): string {
  return svgOf(g, layout(g));
}

/**
 * An interactive offline page of the graph: with `collapse`, a button switches between one box per
 * module and every node; hovering a node shows shape, dtype, device and bytes.
 *
 * @example
 * const scopes = moduleScopes(model);
 * const loss = lossOf(model.call(x));
 * scopes.remove();
 * writeFileSync('graph.html', toGraphHTML(loss, { params: model.namedParameters(), collapse: scopes }));
 */
export function toGraphHTML(tensor: Tensor | readonly Tensor[], opts: GraphOptions & { title?: string } = {}): string {
  const full = buildGraph(tensor, { ...opts, collapse: null });
  const views = [`<div class="view" id="full"${opts.collapse ? ' hidden' : ''}>${graphToSVG(full)}</div>`];
  if (opts.collapse) views.unshift(`<div class="view" id="collapsed">${graphToSVG(buildGraph(tensor, opts))}</div>`);
  const title = esc(opts.title ?? 'autograd graph');
  const toggle = opts.collapse
    ? `<button id="toggle" onclick="for(const v of document.querySelectorAll('.view'))v.hidden=!v.hidden;this.textContent=document.getElementById('full').hidden?'expand modules':'collapse by module'">expand modules</button>`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<style>body{font:13px system-ui,sans-serif;margin:12px}.node:hover rect{stroke:#d00;stroke-width:2}#info{font-family:monospace;white-space:pre;min-height:3em;color:#333}</style>
</head><body><h1 style="font-size:16px">${title}</h1>${toggle}<div id="info">hover a node for shape, dtype, device and bytes</div>
${views.join('\n')}
<script>for(const g of document.querySelectorAll('.node'))g.addEventListener('mouseenter',()=>{document.getElementById('info').textContent=g.querySelector('title').textContent});</script>
</body></html>
`;
}
