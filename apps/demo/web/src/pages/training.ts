/** Training lab: the spiral MLP trained live, with its loss, boundary, gradient histograms, clipping and NaN detector. */
import { accuracy, boundary, nanDemo, spiral, trainStep, trainer } from '../lessons/training.js';
import lessonSource from '../lessons/training.ts?raw';
import { codeBlock, errorText, fmt, h, readout, setStatus, setText } from '../ui/dom.js';
import { decisionPlot, histogramStrip, linePlot } from '../ui/chart.js';
import type { Page } from './page.js';

const COLORS = ['#d0502a', '#1f8f4a', '#1f5fbf'];
const frame = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

export const trainingPage: Page = {
  id: 'training',
  title: 'Training lab',
  teaches: 'a training loop live: loss, decision boundary, per-layer gradient histograms, clipping, the NaN detector',
  async render(root, device) {
    const params = new URLSearchParams(location.hash.split('?')[1] ?? '');
    const steps = h('input', { id: 'steps', type: 'number', value: params.get('steps') ?? '400', min: '10', step: '10' });
    const clip = h('input', { id: 'clip', type: 'checkbox', ...(params.get('clip') ? { checked: '' } : {}) });
    const clipTo = h('input', { id: 'clip-to', type: 'number', value: params.get('clip') && params.get('clip') !== '1' ? params.get('clip')! : '0.05', step: '0.01', min: '0', size: '5' });
    const trainBtn = h('button', { id: 'train' }, 'Train');
    const nanBtn = h('button', { id: 'nan' }, 'Run the NaN detector demo');
    const lossHost = h('div', { id: 'loss-plot' });
    const normHost = h('div', { id: 'norm-plot' });
    const boundaryHost = h('div', { id: 'boundary' });
    const hists = h('div', { class: 'plots', id: 'histograms' });
    const nanOut = h('pre', { class: 'nan-report', 'data-testid': 'nan-report' }, '');
    root.append(
      h('h1', {}, 'Training lab'),
      h('p', {}, `A 2-64-64-3 MLP learns the three-armed spiral (300 points) with Adam (lr 0.01, full batch) on ${device}. The recorder from @nabla/hooks' watch() keeps a histogram of each layer's gradient every 10 steps; clipping (clipGradNorm_) rescales the gradient so its total norm is at most the limit.`),
      h('div', { class: 'controls' }, h('label', {}, 'steps ', steps), h('label', {}, clip, ' clip the gradient norm to ', clipTo), trainBtn, nanBtn),
      h('p', { class: 'status' }, ''),
      h('div', { class: 'readouts' }, readout('step', 'step'), readout('loss', 'loss'), readout('accuracy', 'accuracy'), readout('gradient norm', 'grad-norm'), readout('ms / step', 'ms-per-step')),
      h('div', { class: 'row' }, boundaryHost, lossHost, normHost),
      h('h2', {}, 'Gradient histograms over steps (weights of each Linear)'),
      hists,
      h('h2', {}, 'NaN detector'),
      h('p', {}, 'A model with a bug (a layer that takes the log of values that go negative) runs one step under nanDetector(model): it names the module, the op, and whether that op produced the NaN.'),
      nanOut,
      codeBlock('lessons/training.ts — the code this page runs', lessonSource),
    );
    const data = spiral(device);

    const train = async (): Promise<void> => {
      setStatus(root, 'running');
      trainBtn.disabled = true;
      try {
        const t = trainer(10);
        const total = Number(steps.value);
        const maxNorm = clip.checked ? Number(clipTo.value) : null;
        const losses: [number, number][] = [];
        const norms: [number, number][] = [];
        const t0 = performance.now();
        let acc = 0;
        for (let k = 1; k <= total; k++) {
          if (!root.isConnected) break; // the reader left the page: stop training
          const { loss, gradNorm } = trainStep(t, data, maxNorm);
          if (k % 5 === 0 || k === 1) {
            losses.push([k, await loss.itemAsync()]);
            norms.push([k, await gradNorm.itemAsync()]);
          }
          loss.dispose();
          gradNorm.dispose();
          if (k % 50 === 0 || k === total) {
            acc = await accuracy(t.model, data);
            await t.recorder.flush();
            setText(root, 'step', String(k));
            setText(root, 'loss', fmt(losses[losses.length - 1]![1]));
            setText(root, 'accuracy', `${(100 * acc).toFixed(1)}%`);
            setText(root, 'grad-norm', fmt(norms[norms.length - 1]![1], 3));
            setText(root, 'ms-per-step', fmt((performance.now() - t0) / k, 3));
            lossHost.replaceChildren(linePlot([{ name: 'loss', x: losses.map((p) => p[0]), y: losses.map((p) => p[1]), color: '#1f5fbf' }], { width: 300, height: 260, title: 'cross-entropy loss', logY: true }));
            const normSeries = [{ name: maxNorm === null ? 'gradient norm' : 'before clipping', x: norms.map((p) => p[0]), y: norms.map((p) => p[1]), color: '#d0502a' }];
            if (maxNorm !== null) normSeries.push({ name: `after clipping to ${maxNorm}`, x: norms.map((p) => p[0]), y: norms.map((p) => Math.min(p[1], maxNorm)), color: '#1f8f4a' });
            normHost.replaceChildren(linePlot(normSeries, { width: 300, height: 260, title: 'total gradient norm', logY: true }));
            const grid = await boundary(t.model, device);
            boundaryHost.replaceChildren(decisionPlot({ n: 48, extent: 1.1, classes: grid }, { x: data.points, label: data.labels }, COLORS, 260));
            const names = ['0.weight', '2.weight', '4.weight'];
            hists.replaceChildren(...names.map((n) => histogramStrip(t.recorder.history.filter((r) => r.grads?.[n]).map((r) => ({ step: r.step, ...r.grads![n]!.histogram })), { width: 280, height: 120, title: `grad of ${n}` })));
            await frame();
          }
        }
        t.recorder.remove();
        root.dataset.accuracy = String(acc);
        root.dataset.clipped = String(maxNorm === null ? 0 : norms.filter((p) => p[1] > maxNorm).length);
        setStatus(root, 'done', `${total} steps on ${device}, accuracy ${(100 * acc).toFixed(1)}%`);
      } catch (e) {
        setStatus(root, 'error', errorText(e));
      } finally {
        trainBtn.disabled = false;
      }
    };
    trainBtn.addEventListener('click', () => void train());
    nanBtn.addEventListener('click', () => void nanDemo(data).then((msg) => (nanOut.textContent = msg)));
    await train();
    nanOut.textContent = await nanDemo(data);
  },
};
