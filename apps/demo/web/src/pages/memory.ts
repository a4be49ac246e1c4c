/** Memory lab: checkpointing's peak memory, segment by segment, and a slot for mixed precision. */
import * as nabla from '@nabla/core';
import { deepModel, findAutocast, measure, measureAutocast, type StepMemory } from '../lessons/memory.js';
import lessonSource from '../lessons/memory.ts?raw';
import { codeBlock, errorText, h, setStatus } from '../ui/dom.js';
import { barChart } from '../ui/chart.js';
import type { Page } from './page.js';

const KiB = (b: number): number => b / 1024;

export const memoryPage: Page = {
  id: 'memory',
  title: 'Memory lab',
  teaches: 'what backward keeps alive, and how checkpointing trades recompute for memory',
  async render(root, device) {
    const chart = h('div', { id: 'memory-chart' });
    const table = h('table', { id: 'memory-table' });
    const amp = h('div', { id: 'amp', class: 'slot' });
    root.append(
      h('h1', {}, 'Memory lab'),
      h('p', {}, `Backward needs what the forward saved, so a deep model's peak memory grows with its depth. checkpointSequential(model, segments, x) keeps only each segment's input and recomputes the segment during backward. Here: 8 blocks of Linear(64,256)+ReLU+Linear(256,64) at batch 512 on ${device}, peak bytes of one forward+backward from memory().peakBytes.`),
      h('p', { class: 'status' }, ''),
      chart,
      table,
      h('h2', {}, 'Mixed precision'),
      amp,
      codeBlock('lessons/memory.ts — the code this page runs', lessonSource),
    );
    setStatus(root, 'running');
    try {
      const model = deepModel(device);
      const x = nabla.randn([512, 64], { device });
      const runs: StepMemory[] = [];
      for (const seg of [null, 2, 4, 8, 'auto'] as const) runs.push(await measure(model, x, seg));
      const base = runs[0]!;
      chart.replaceChildren(barChart(runs.map((r, i) => ({ label: r.mode, value: KiB(r.peakBytes), color: i === 0 ? '#888' : '#1f8f4a', note: `${((100 * r.peakBytes) / base.peakBytes).toFixed(0)}%` })), { title: 'peak memory of one step (KiB above the step’s start)', unit: ' KiB' }));
      table.append(h('tr', {}, h('th', {}, 'mode'), h('th', {}, 'peak KiB'), h('th', {}, 'of unchecked'), h('th', {}, 'plan (* = recomputed in backward)'), h('th', {}, 'max |Δ grad| vs unchecked')));
      for (const r of runs) {
        const diff = Math.max(...r.grad.map((g, i) => Math.abs(g - base.grad[i]!)));
        table.append(h('tr', { 'data-mode': r.mode, 'data-peak': String(r.peakBytes), 'data-graddiff': String(diff) }, h('td', {}, r.mode), h('td', {}, Math.round(KiB(r.peakBytes)).toLocaleString('en')), h('td', {}, `${((100 * r.peakBytes) / base.peakBytes).toFixed(0)}%`), h('td', {}, r.plan), h('td', {}, diff.toExponential(1))));
      }
      const autocast = findAutocast();
      if (autocast === null) {
        amp.dataset.state = 'unavailable';
        amp.append(h('p', {}, 'Mixed precision is not available in this build: @nabla/core does not export autocast yet (it is being built). When it does, this slot runs the same step with the forward under nabla.autocast(device, fn) and shows its peak memory here.'));
      } else {
        const r = await measureAutocast(autocast, model, x);
        amp.dataset.state = 'ran';
        amp.append(h('p', {}, `Under autocast('${device}') the model computed in ${r.dtype}; peak ${Math.round(KiB(r.peakBytes)).toLocaleString('en')} KiB (${((100 * r.peakBytes) / base.peakBytes).toFixed(0)}% of the float32 step).`));
      }
      x.dispose();
      setStatus(root, 'done', `on ${device}`);
    } catch (e) {
      setStatus(root, 'error', errorText(e));
    }
  },
};
