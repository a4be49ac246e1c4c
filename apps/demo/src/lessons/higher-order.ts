/** Lesson 4: derivatives of derivatives, with autograd.grad and createGraph. */
import * as nabla from '@nabla/core';
import type { Lesson } from '../lesson.js';

export const higherOrder: Lesson = {
  title: 'Higher-order derivatives',
  run(t) {
    t.say('With createGraph: true the gradient is itself a graph, so it can be differentiated again.');
    t.code(
      "const x = nabla.tensor(2, { dtype: 'float64', requiresGrad: true })",
      'const y = x.pow(3).sub(x.pow(2).mul(2)).add(x).add(1)   // x³ − 2x² + x + 1',
      'const [d1] = nabla.autograd.grad(y, x, { createGraph: true })   // and again for d2, d3, d4',
    );
    const x = nabla.tensor(2, { dtype: 'float64', requiresGrad: true });
    const y = x.pow(3).sub(x.pow(2).mul(2)).add(x).add(1);
    const [d1] = nabla.autograd.grad(y, x, { createGraph: true });
    const [d2] = nabla.autograd.grad(d1!, x, { createGraph: true });
    const [d3] = nabla.autograd.grad(d2!, x, { createGraph: true });
    // As in PyTorch, d3 still has a graph back to x (through pow's backward), so the fourth
    // derivative is a real zero tensor: no allowUnused needed, no null to handle.
    const [d4] = nabla.autograd.grad(d3!, x);
    t.check("y'", d1!, 5, { why: '3x² − 4x + 1' });
    t.check("y''", d2!, 8, { why: '6x − 4' });
    t.check("y'''", d3!, 6);
    t.check("y''''", d4!, 0, { note: 'a real zero tensor, as in PyTorch' });
    t.check('x.grad', x.grad, null, { note: 'autograd.grad never writes .grad' });
  },
};
