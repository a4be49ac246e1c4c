/** Activations lab: f and f′ for every activation, custom Functions beside fused ops, gradcheck, timings. */
import * as act from '@nabla/activations';
import { CUSTOM, FUSED, check, curves, time } from '../lessons/activations.js';
import lessonSource from '../lessons/activations.ts?raw';
import { codeBlock, errorText, fmt, h, setStatus } from '../ui/dom.js';
import { linePlot } from '../ui/chart.js';
import type { DeviceStatus } from '../runtime.js';
import type { Page } from './page.js';

const pause = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

export function activationsPage(devices: () => Promise<DeviceStatus[]>): Page {
  return {
    id: 'activations',
    title: 'Activations lab',
    teaches: 'every activation and its derivative by autograd, custom Functions vs fused ops, gradcheck, speed per device',
    async render(root) {
      const grid = h('div', { class: 'plots', id: 'activation-plots' });
      const pairs = h('div', { class: 'plots', id: 'custom-plots' });
      const table = h('table', { class: 'timings', id: 'timings' });
      root.append(
        h('h1', {}, 'Activations lab'),
        h('p', {}, 'Solid: f(x). Dashed: f′(x), from autograd (x.grad after f(x).sum().backward()). The badge is gradcheck in float64: autograd against finite differences.'),
        h('p', { class: 'status' }, ''),
        grid,
        h('h2', {}, 'Custom Functions beside the fused ops'),
        h('p', {}, 'The tutorial writes Swish, Mish and HardSwish as custom Functions with a hand-written backward; @nabla/activations has them as fused ops (one kernel forward, one backward). Same numbers, fewer kernels:'),
        pairs,
        h('h2', {}, 'Forward + backward over 65,536 elements, median of 5 (ms)'),
        table,
        codeBlock('lessons/activations.ts — the code this page runs', lessonSource),
      );
      setStatus(root, 'running');
      try {
        const missing = act.ACTIVATIONS.map((a) => a.spec.name).filter((n) => !(n in FUSED));
        if (missing.length) throw new Error(`the lab has no entry for ${missing.join(', ')}`);
        let passed = 0;
        let seed = 1;
        for (const [name, fn] of Object.entries(FUSED)) {
          const s = curves(fn);
          const ok = check(fn, seed++);
          if (ok) passed++;
          grid.append(
            h('figure', { class: 'activation', 'data-name': name, 'data-gradcheck': String(ok) },
              linePlot([{ name: 'f', x: s.x, y: s.y, color: '#1f5fbf' }, { name: "f′", x: s.x, y: s.dy, color: '#d0502a', dashed: true }], { width: 220, height: 150, title: name }),
              h('figcaption', { class: ok ? 'ok' : 'bad' }, `gradcheck ${ok ? 'passed ✓' : 'FAILED ✗'}`)),
          );
          await pause();
        }
        for (const p of CUSTOM) {
          const a = curves(p.custom);
          const b = curves(p.fused);
          const diff = Math.max(...a.y.map((v, i) => Math.abs(v - b.y[i]!)), ...a.dy.map((v, i) => Math.abs(v - b.dy[i]!)));
          const ok = check(p.custom, seed++);
          if (ok) passed++;
          pairs.append(
            h('figure', { class: 'pair', 'data-name': p.name, 'data-maxdiff': String(diff), 'data-gradcheck': String(ok) },
              linePlot([
                { name: 'fused f', x: b.x, y: b.y, color: '#1f5fbf' },
                { name: "fused f′", x: b.x, y: b.dy, color: '#d0502a' },
                { name: 'custom f', x: a.x, y: a.y, color: '#111', dashed: true },
                { name: "custom f′", x: a.x, y: a.dy, color: '#555', dashed: true },
              ], { width: 300, height: 180, title: p.name }),
              h('figcaption', {}, `max |custom − fused| over f and f′ = ${diff.toExponential(1)}; gradcheck of the custom Function ${ok ? 'passed ✓' : 'FAILED ✗'}`)),
          );
        }
        const avail = (await devices()).filter((d) => d.available);
        table.append(h('tr', {}, h('th', {}, 'activation'), ...avail.flatMap((d) => [h('th', {}, `${d.device} fused`), h('th', {}, `${d.device} custom`)])));
        for (const p of CUSTOM) {
          const row = h('tr', { 'data-name': p.name }, h('td', {}, p.name));
          table.append(row);
          for (const d of avail) {
            if (!root.isConnected) return; // the reader left the page
            const fused = await time(p.fused, d.device);
            const custom = await time(p.custom, d.device);
            row.append(h('td', { 'data-device': d.device, 'data-kind': 'fused' }, fmt(fused, 3)), h('td', { 'data-device': d.device, 'data-kind': 'custom' }, `${fmt(custom, 3)} (${fmt(custom / fused, 2)}×)`));
          }
        }
        root.dataset.gradchecks = `${passed}/${Object.keys(FUSED).length + CUSTOM.length}`;
        setStatus(root, 'done', `${passed} of ${Object.keys(FUSED).length + CUSTOM.length} gradchecks passed`);
      } catch (e) {
        setStatus(root, 'error', errorText(e));
      }
    },
  };
}
