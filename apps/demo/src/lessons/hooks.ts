/** Lesson 6: hooks see (and may replace) gradients as they flow. */
import * as nabla from '@nabla/core';
import type { Lesson } from '../lesson.js';

export const hooks: Lesson = {
  title: 'Hooks',
  run(t) {
    t.say('A tensor hook sees the gradient w.r.t. that tensor; what it returns replaces it.');
    t.code("const x = nabla.tensor(2, { dtype: 'float64', requiresGrad: true })", 'const y = x.pow(2); y.registerHook((g) => g.mul(0.1)); y.backward()');
    const x = nabla.tensor(2, { dtype: 'float64', requiresGrad: true });
    const y = x.pow(2);
    y.registerHook((g) => g.mul(0.1));
    y.backward();
    t.check('x.grad', x.grad, 0.4, { why: '0.1 · 2x' });

    t.say("A node hook sees the node's gradInputs and gradOutputs, and may scale gradInputs.");
    t.code('const e = w.exp(); e.gradFn.registerHook((gradInputs) => gradInputs.map((g) => g.mul(0.5))); e.backward()');
    const w = nabla.tensor(3, { dtype: 'float64', requiresGrad: true });
    const e = w.exp();
    e.gradFn!.registerHook((gradInputs) => gradInputs.map((g) => (g ? g.mul(0.5) : g)));
    e.backward();
    t.check('w.grad', w.grad, 0.5 * Math.exp(3), { why: '0.5·e³' });

    t.say('retainGrad() keeps the gradient of an intermediate tensor.');
    t.code('const h = v.mul(3); h.retainGrad(); h.square().sum().backward()');
    const v = nabla.tensor([1, 2], { requiresGrad: true });
    const h = v.mul(3);
    h.retainGrad();
    h.square().sum().backward();
    t.check('h.grad', h.grad, [6, 12], { why: '2h' });
    t.check('v.grad', v.grad, [18, 36], { why: '3 · 2h' });
  },
};
