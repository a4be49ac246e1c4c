/** Lesson 7: switching recording off (noGrad, inferenceMode, detach) and on again. */
import * as nabla from '@nabla/core';
import type { Lesson } from '../lesson.js';

export const gradModes: Lesson = {
  title: 'Grad modes',
  run(t) {
    const x = nabla.tensor([1, 2], { requiresGrad: true });

    t.say('noGrad runs a callback without recording: results do not require grad.');
    t.code('const y = nabla.noGrad(() => x.mul(2))');
    const y = nabla.noGrad(() => x.mul(2));
    t.check('y.requiresGrad', y.requiresGrad, false);
    t.check('y', y, [2, 4]);

    t.say('enableGrad inside noGrad turns recording back on.');
    const z = nabla.noGrad(() => nabla.enableGrad(() => x.mul(2)));
    t.check('z.requiresGrad', z.requiresGrad, true);
    const off = nabla.setGradEnabled(false, () => x.mul(2));
    t.check('setGradEnabled(false, ...).requiresGrad', off.requiresGrad, false);
    t.check('nabla.isGradEnabled()', nabla.isGradEnabled(), true, { note: 'restored afterwards' });

    t.say('detach() shares the data but leaves the graph.');
    const d = x.mul(3).detach();
    t.check('x.mul(3).detach().requiresGrad', d.requiresGrad, false);
    t.check('d.gradFn', d.gradFn === null ? null : d.gradFn.name(), null);

    t.say('inferenceMode makes tensors that can never be used in autograd later.');
    const inf = nabla.inferenceMode(() => nabla.tensor([3, 4]).mul(2));
    t.check('inf', inf, [6, 8]);
    t.checkThrows('inf.mul(x)', () => inf.mul(x), 'Inference tensors cannot be saved for backward');

    t.say('A graph is freed by backward; a second backward needs retainGraph: true on the first.');
    const s = x.mul(x).sum();
    s.backward();
    t.checkThrows('s.backward() again', () => s.backward(), 'Trying to backward through the graph a second time');
    t.check('x.grad', x.grad, [2, 4], { why: '2x', note: 'from the first backward only' });
  },
};
