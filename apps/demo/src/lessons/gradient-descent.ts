/** Lesson 8: put it together — minimize a function by gradient descent. */
import * as nabla from '@nabla/core';
import type { Lesson } from '../lesson.js';

export const gradientDescent: Lesson = {
  title: 'Gradient descent',
  run(t) {
    t.say('Minimize f(x) = (x − 3)² + 1 from x = 0 with learning rate 0.1.');
    t.code(
      'for (let step = 1; step <= 20; step++) {',
      '  const loss = x.sub(3).pow(2).add(1); loss.backward()',
      '  nabla.noGrad(() => x.sub_(x.grad.mul(lr))); x.grad.zero_()',
      '}',
    );
    const x = nabla.tensor(0, { dtype: 'float64', requiresGrad: true });
    const lr = 0.1;
    for (let step = 1; step <= 20; step++) {
      const loss = x.sub(3).pow(2).add(1);
      loss.backward();
      nabla.noGrad(() => x.sub_(x.grad!.mul(lr)));
      x.grad!.zero_();
      if (step === 1 || step === 5 || step === 10 || step === 20) {
        t.say(`    step ${String(step).padStart(2)}: loss = ${loss.item().toFixed(4)}, x = ${x.item().toFixed(4)}`);
      }
    }
    // Each step moves x to 3 − 0.8·(3 − x), so after n steps x = 3 − 3·0.8ⁿ.
    t.check('x after 20 steps', x, 3 - 3 * 0.8 ** 20, { why: '3 − 3·0.8²⁰', tol: 1e-9 });
    t.check('|x − 3| < 0.05', Math.abs(x.item() - 3) < 0.05, true);
    t.check('x.grad', x.grad, 0, { note: 'zeroed after the last step' });
  },
};
