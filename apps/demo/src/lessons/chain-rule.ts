/** Lesson 3: the chain rule, done for you through every path of the graph. */
import * as nabla from '@nabla/core';
import type { Lesson } from '../lesson.js';

export const chainRule: Lesson = {
  title: 'The chain rule',
  run(t) {
    t.say('z = (x + y)(y − 2): y reaches z through two paths, and their gradients add up.');
    t.code('const x = nabla.tensor(3, { requiresGrad: true }), y = nabla.tensor(4, { requiresGrad: true })', 'const z = x.add(y).mul(y.sub(2)); z.backward()');
    const x = nabla.tensor(3, { requiresGrad: true });
    const y = nabla.tensor(4, { requiresGrad: true });
    const z = x.add(y).mul(y.sub(2));
    t.check('z.gradFn.nextFunctions', z.gradFn!.nextFunctions.map(([n]) => n!.name()), ['AddBackward0', 'SubBackward0']);
    z.backward();
    t.check('x.grad', x.grad, 2, { why: 'y − 2' });
    t.check('y.grad', y.grad, 9, { why: '(y − 2) + (x + y)' });

    t.say('Through a composition: h = sin(x²) has dh/dx = cos(x²)·2x.');
    t.code("const w = nabla.tensor(1, { dtype: 'float64', requiresGrad: true })", 'w.pow(2).sin().backward()');
    const w = nabla.tensor(1, { dtype: 'float64', requiresGrad: true });
    w.pow(2).sin().backward();
    t.check('w.grad', w.grad, 2 * Math.cos(1), { why: '2·cos(1)', tol: 1e-9 });
  },
};
