/** Lesson 1: make a tensor that requires grad, compute with it, call backward, read .grad. */
import * as nabla from '@nabla/core';
import type { Lesson } from '../lesson.js';

export const basicGradients: Lesson = {
  title: 'Basic gradients',
  run(t) {
    t.say('A tensor created with requiresGrad: true records every op done with it.');
    t.code('const x = nabla.tensor([2, 3], { requiresGrad: true })', 'const y = x.pow(2).add(x.mul(2)).add(1)   // y = x² + 2x + 1');
    const x = nabla.tensor([2, 3], { requiresGrad: true });
    const y = x.pow(2).add(x.mul(2)).add(1);
    t.check('y', y, [9, 16], { why: '(x+1)²' });
    t.check('x.isLeaf', x.isLeaf, true);
    t.check('y.requiresGrad', y.requiresGrad, true);

    t.say('backward() needs a scalar, so sum first; the gradient lands in x.grad.');
    t.code('y.sum().backward()');
    y.sum().backward();
    t.check('x.grad', x.grad, [6, 8], { why: '2x+2' });
    t.check('y.grad', y.grad, null, { note: 'non-leaves keep no .grad' });
  },
};
