/**
 * toDot matches golden files written from PyTorch 1.13's graphs by fixtures/make_dot_golden.py
 * (torchviz's make_dot): the autograd tutorial's z = (x + y) * (y - 2), with and without saved
 * tensors, and a 3-layer MLP built from nn.Linear and nn.ReLU. toSVG lays out the same graphs and
 * a 2,000-node one without graphviz.
 */
import { readFileSync } from 'node:fs';
import { createRuntime, type Runtime, type Tensor } from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import * as nn from '@nabla/nn';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildGraph, moduleScopes, toDot, toGraphHTML, toSVG } from '../src/index.js';

const golden = (name: string): string => readFileSync(new URL(`./golden/${name}`, import.meta.url), 'utf8');

let rt: Runtime;
beforeAll(async () => {
  rt = await createRuntime({ plugins: [cpuBackend()] });
});

/** make_dot_golden.py's `hashed`: the same numbers in both languages. */
function hashed(shape: number[], seed: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = Float32Array.from({ length: n }, (_, i) => ((i * 2654435761 + seed * 40503 + 12345) % 4294967296) / 4294967296 - 0.5);
  return rt.tensor(v, { shape });
}

function mlp(): nn.Sequential {
  const sizes: [number, number][] = [
    [3, 4],
    [4, 5],
    [5, 2],
  ];
  const layers: nn.Module[] = [];
  sizes.forEach(([i, o], k) => {
    const lin = new nn.Linear(i, o, { runtime: rt });
    rt.noGrad(() => {
      lin.weight.copy_(hashed([o, i], 10 + k));
      lin.bias!.copy_(hashed([o], 20 + k));
    });
    layers.push(lin);
    if (k < 2) layers.push(new nn.ReLU());
  });
  return new nn.Sequential(...layers);
}

describe('toDot', () => {
  it("draws the tutorial's z = (x + y) * (y - 2) as torchviz does", () => {
    const x = rt.tensor([1, 2], { requiresGrad: true });
    const y = rt.tensor([3, 4], { requiresGrad: true });
    const z = x.add(y).mul(y.sub(2));
    expect(toDot(z, { params: { x, y } })).toBe(golden('tutorial.dot'));
    expect(toDot(z, { params: { x, y }, showSaved: true })).toBe(golden('tutorial-saved.dot'));
  });

  it('shows node attributes with showAttrs', () => {
    const x = rt.tensor([[1, 2], [3, 4]], { requiresGrad: true });
    const dot = toDot(x.sum(1).reshape([1, 2]), { params: { x }, showAttrs: true });
    expect(dot).toContain('label="SumBackward1\\ninShape: (2, 2)\\naxes: (1)\\nkeepdim: false"');
    expect(dot).toContain('label="ViewBackward0\\ninShape: (2)"');
  });

  it('draws a 3-layer MLP with parameter names from namedParameters()', () => {
    const model = mlp();
    const out = model.call(hashed([6, 3], 1));
    expect(toDot(out, { params: model.namedParameters() })).toBe(golden('mlp.dot'));
  });

  it('collapses by module: one box per layer, with the count of its nodes', () => {
    const model = mlp();
    const scopes = moduleScopes(model);
    const out = model.call(hashed([6, 3], 1));
    scopes.remove();
    const g = buildGraph(out, { params: model.namedParameters(), collapse: scopes });
    const boxes = g.nodes.filter((n) => n.kind === 'module').map((n) => n.label);
    // Each Linear is AddmmBackward0 over TBackward0 of its weight, as in PyTorch.
    expect(boxes).toEqual(['4\n2 nodes', '3\n1 node', '2\n2 nodes', '1\n1 node', '0\n2 nodes']);
    expect(g.nodes.filter((n) => n.kind === 'param').length).toBe(6);
    const html = toGraphHTML(out, { params: model.namedParameters(), collapse: scopes });
    expect(html).toContain('collapse by module');
    expect((html.match(/<g class="node/g) ?? []).length).toBe(g.nodes.length + buildGraph(out, { params: model.namedParameters() }).nodes.length);
  });
});

describe('toSVG', () => {
  it('lays out every node of the tutorial graph, leaves above the output', () => {
    const x = rt.tensor([1, 2], { requiresGrad: true });
    const y = rt.tensor([3, 4], { requiresGrad: true });
    const svg = toSVG(x.add(y).mul(y.sub(2)), { params: { x, y } });
    expect((svg.match(/<g class="node/g) ?? []).length).toBe(8);
    expect((svg.match(/class="edge"/g) ?? []).length).toBe(8);
    const yOf = (cls: string): number => Number(new RegExp(`<g class="node ${cls}"[^>]*><title>[^<]*</title><rect x="[^"]*" y="([^"]*)"`).exec(svg)![1]);
    expect(yOf('param')).toBeLessThan(yOf('output'));
  });

  it('draws a 2,000-node graph', () => {
    const leaves = Array.from({ length: 8 }, (_, i) => rt.tensor([0.5, -0.25, 1 + i], { requiresGrad: true }));
    let h = leaves[0]!;
    for (let i = 0; i < 2000; i++) h = i % 3 === 0 ? h.add(leaves[i % 8]!) : i % 3 === 1 ? h.tanh() : h.mul(1.0001);
    const t0 = performance.now();
    const svg = toSVG(h.sum());
    const ms = performance.now() - t0;
    const n = (svg.match(/<g class="node/g) ?? []).length;
    console.log(`[toSVG] ${n} nodes in ${ms.toFixed(0)} ms (apps/bench measures it)`);
    expect(n).toBeGreaterThanOrEqual(2000);
  });
});
