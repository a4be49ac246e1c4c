/** Lesson 5: your own differentiable op — forward, backward, ctx — and checking it with gradcheck. */
import * as nabla from '@nabla/core';
import type { FunctionCtx, Tensor } from '@nabla/core';
import type { Lesson } from '../lesson.js';

class MyReLU extends nabla.Function {
  static override forward(ctx: FunctionCtx, x: Tensor): Tensor {
    ctx.saveForBackward(x);
    return x.clamp(0);
  }
  static override backward(ctx: FunctionCtx, g: Tensor): Tensor {
    const [x] = ctx.savedTensors;
    return g.mul(x!.gt(0));
  }
}

class Swish extends nabla.Function {
  static override forward(ctx: FunctionCtx, x: Tensor): Tensor {
    ctx.saveForBackward(x);
    return x.mul(x.sigmoid());
  }
  static override backward(ctx: FunctionCtx, g: Tensor): Tensor {
    const [x] = ctx.savedTensors;
    const s = x!.sigmoid();
    return g.mul(s.mul(x!.mul(s.neg().add(1)).add(1))); // s·(1 + x·(1 − s))
  }
}

/** Swish with a bug in backward: it forgets the x·s·(1 − s) term. */
class BuggySwish extends nabla.Function {
  static override forward(ctx: FunctionCtx, x: Tensor): Tensor {
    ctx.saveForBackward(x);
    return x.mul(x.sigmoid());
  }
  static override backward(ctx: FunctionCtx, g: Tensor): Tensor {
    const [x] = ctx.savedTensors;
    return g.mul(x!.sigmoid());
  }
}

export const customFunction: Lesson = {
  title: 'A custom Function, checked with gradcheck',
  run(t) {
    t.say('Subclass nabla.Function with static forward(ctx, ...) and backward(ctx, grad).');
    t.code('class MyReLU extends nabla.Function { forward: save x, return x.clamp(0); backward: g·(x > 0) }');
    const x = nabla.tensor([-1, 2, -3], { requiresGrad: true });
    const y = MyReLU.apply(x);
    t.check('MyReLU(x)', y, [0, 2, 0]);
    t.check('y.gradFn.name()', y.gradFn!.name(), 'MyReLUBackward');
    y.sum().backward();
    t.check('x.grad', x.grad, [0, 1, 0], { why: '1 where x > 0' });

    t.say('gradcheck compares backward with finite differences (use float64).');
    t.code("const u = nabla.tensor([-2, -0.5, 0.3, 1.7], { dtype: 'float64', requiresGrad: true })", 'nabla.gradcheck((v) => Swish.apply(v), [u])');
    const u = nabla.tensor([-2, -0.5, 0.3, 1.7], { dtype: 'float64', requiresGrad: true });
    t.check('gradcheck(Swish)', nabla.gradcheck((v) => Swish.apply(v), [u]), true);
    t.check('gradgradcheck(Swish)', nabla.gradgradcheck((v) => Swish.apply(v), [u]), true, { note: 'backward is made of ops, so it differentiates too' });
    t.check(
      'gradcheck(BuggySwish, { raiseException: false })',
      nabla.gradcheck((v) => BuggySwish.apply(v), [u], { raiseException: false }),
      false,
      { note: 'the bug is caught' },
    );
    t.checkThrows('gradcheck(BuggySwish)', () => nabla.gradcheck((v) => BuggySwish.apply(v), [u]), 'Jacobian mismatch');
  },
};
