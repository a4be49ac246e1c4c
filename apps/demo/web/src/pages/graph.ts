/** Graph explorer: type an expression, see its backward graph, step through backward, hook a leaf. */
import { buildGraph, graphToSVG } from '@nabla/hooks';
import type { Node, Tensor } from '@nabla/core';
import { parse, parseValues, variables } from '../lessons/expression.js';
import { attachHook, build, graphNodes, recordBackward, toScalar, type BackwardStep, type HookKind } from '../lessons/graph-explorer.js';
import lessonSource from '../lessons/graph-explorer.ts?raw';
import { codeBlock, errorText, h, readout, setStatus } from '../ui/dom.js';
import type { Page } from './page.js';

const show = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'number' ? Number(x.toPrecision(6)) : x));

interface Run {
  readonly steps: BackwardStep[];
  readonly grads: Map<string, unknown>;
  readonly out: unknown;
}

async function runOnce(expr: string, vals: string, device: string, hookOn: string, hook: HookKind, svgHost: HTMLElement | null, info: HTMLElement | null): Promise<Run> {
  const ast = parse(expr);
  const { out, leaves, values } = build(ast, parseValues(vals), device);
  const root = toScalar(out);
  const handle = leaves.has(hookOn) ? attachHook(leaves.get(hookOn)!, hook) : { remove() {} };
  if (svgHost && root.gradFn) {
    // toSVG's picture, built from the same graph data so each box can be tied to its node.
    const g = buildGraph(root, { params: { ...Object.fromEntries(leaves), [root === out ? 'z' : 'z.sum()']: root } });
    svgHost.innerHTML = graphToSVG(g);
    wireHover(svgHost, g.nodes, graphNodes(root.gradFn), values, leaves, info!);
  }
  const steps = await recordBackward(root);
  handle.remove();
  const grads = new Map<string, unknown>();
  for (const [name, t] of leaves) grads.set(name, t.grad ? await t.grad.tolistAsync() : null);
  return { steps, grads, out: await out.tolistAsync() };
}

/** Ties each drawn box to its node (boxes of kind fn come in the same depth-first order). */
function wireHover(host: HTMLElement, vnodes: readonly { id: string; kind: string }[], nodes: Node[], values: Map<Node, Tensor>, leaves: Map<string, Tensor>, info: HTMLElement): void {
  const fnIds = vnodes.filter((n) => n.kind === 'fn').map((n) => n.id);
  const leafByTensor = new Map([...leaves].map(([k, v]) => [v, k]));
  fnIds.forEach((id, i) => {
    const node = nodes[i];
    const g = host.querySelector<SVGGElement>(`g.node[data-id="${id}"]`);
    if (!node || !g) return;
    g.dataset.seq = String(node.seq);
    g.dataset.name = node.name();
    g.addEventListener('mouseenter', () => {
      void (async () => {
        const variable = (node as { variable?: Tensor }).variable;
        const t = variable ?? values.get(node);
        const label = variable ? `leaf ${leafByTensor.get(variable) ?? ''}` : 'its output';
        const value = t ? show(await t.tolistAsync()) : '?';
        const grad = variable?.grad ? `   .grad = ${show(await variable.grad.tolistAsync())}` : (g.dataset.grad ? `   gradient received = ${g.dataset.grad}` : '');
        info.textContent = `${node.name()}: ${label} = ${value}${grad}`;
      })();
    });
  });
}

export const graphPage: Page = {
  id: 'graph',
  title: 'Graph explorer',
  teaches: 'the backward graph with PyTorch’s node names, backward node by node, tensor hooks',
  async render(root, device) {
    const expr = h('input', { id: 'expr', value: '(x + y) * (y - 2)', size: '36', 'aria-label': 'expression' });
    const vals = h('input', { id: 'values', value: 'x = 3, y = 4', size: '24', 'aria-label': 'values' });
    const hookOn = h('select', { id: 'hook-on' });
    const hookKind = h('select', { id: 'hook-kind' }, ...(['none', 'double', 'zero', 'clamp'] as const).map((k) => h('option', { value: k }, k === 'none' ? 'no hook' : k === 'double' ? 'grad => grad.mul(2)' : k === 'zero' ? 'grad => grad.mul(0)' : 'grad => grad.clamp(-1, 1)')));
    const runBtn = h('button', { id: 'run' }, 'Build & run backward');
    const svgHost = h('div', { class: 'graph', id: 'graph-svg' });
    const info = h('div', { class: 'hover-info', id: 'hover-info' }, 'hover a box for its value and gradient');
    const grads = h('div', { class: 'readouts', id: 'grads' });
    const stepList = h('ol', { class: 'steps', id: 'steps' });
    const prev = h('button', { id: 'step-prev' }, '◀ back');
    const next = h('button', { id: 'step-next' }, 'step ▶');
    const stepInfo = h('div', { class: 'step-info', 'data-testid': 'step-info' }, '');
    root.append(
      h('h1', {}, 'Graph explorer'),
      h('p', {}, 'Each op on tensors that require grad adds a node to the backward graph, named as PyTorch names it. Type an expression (numbers, variables, + − * / ^, exp log sin cos tanh sigmoid relu sqrt abs sum mean) and values for its variables; backward() then walks the graph from the output to the leaves.'),
      h('div', { class: 'controls' }, h('label', {}, 'z = ', expr), h('label', {}, 'with ', vals), h('label', {}, 'tensor hook on ', hookOn, hookKind), runBtn),
      h('p', { class: 'status' }, ''),
      grads,
      h('div', { class: 'row' }, h('div', {}, svgHost, info), h('div', { class: 'stepper' }, h('h3', {}, 'backward, node by node'), h('div', {}, prev, next), stepInfo, stepList)),
      codeBlock('lessons/graph-explorer.ts — the code this page runs', lessonSource),
    );

    const refreshVars = (): void => {
      let names: string[] = [];
      try {
        names = variables(parse(expr.value));
      } catch {
        /* shown when run */
      }
      const keep = hookOn.value;
      hookOn.replaceChildren(...names.map((n) => h('option', { value: n }, n)));
      if (names.includes(keep)) hookOn.value = keep;
    };
    expr.addEventListener('input', refreshVars);
    refreshVars();

    let steps: BackwardStep[] = [];
    let at = -1;
    const showStep = (): void => {
      svgHost.querySelectorAll('g.node.current').forEach((g) => g.classList.remove('current'));
      stepList.querySelectorAll('li').forEach((li, i) => li.classList.toggle('current', i === at));
      if (at < 0) {
        stepInfo.textContent = `${steps.length} nodes ran; press step to walk through them`;
        return;
      }
      const s = steps[at]!;
      svgHost.querySelector(`g.node[data-seq="${s.node.seq}"]`)?.classList.add('current');
      stepInfo.textContent = `step ${at + 1}/${steps.length}: ${s.name} receives ${s.gradIn.map(show).join(', ') || 'nothing'}`;
    };
    prev.addEventListener('click', () => {
      at = Math.max(-1, at - 1);
      showStep();
    });
    next.addEventListener('click', () => {
      at = Math.min(steps.length - 1, at + 1);
      showStep();
    });

    const run = async (): Promise<void> => {
      setStatus(root, 'running');
      try {
        const kind = hookKind.value as HookKind;
        const plain = await runOnce(expr.value, vals.value, device, hookOn.value, 'none', kind === 'none' ? svgHost : null, info);
        const hooked = kind === 'none' ? plain : await runOnce(expr.value, vals.value, device, hookOn.value, kind, svgHost, info);
        steps = hooked.steps;
        for (const s of steps) {
          const g = svgHost.querySelector<SVGGElement>(`g.node[data-seq="${s.node.seq}"]`);
          if (g) g.dataset.grad = s.gradIn.map(show).join(', ');
        }
        stepList.replaceChildren(...steps.map((s) => h('li', { 'data-name': s.name }, `${s.name} ← ${s.gradIn.map(show).join(', ')}`)));
        grads.replaceChildren(
          readout('z =', 'out', show(plain.out)),
          ...[...plain.grads].map(([n, g]) => readout(`${n}.grad =`, `grad-${n}`, show(g))),
          ...(kind === 'none' ? [] : [...hooked.grads].map(([n, g]) => readout(`${n}.grad with the hook =`, `hooked-grad-${n}`, show(g)))),
          readout('graph nodes:', 'node-names', steps.map((s) => s.name).join(' → ')),
        );
        at = -1;
        showStep();
        setStatus(root, 'done', `on ${device}`);
      } catch (e) {
        setStatus(root, 'error', errorText(e));
      }
    };
    runBtn.addEventListener('click', () => void run());
    await run();
  },
};
