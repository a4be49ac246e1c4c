/**
 * Reference custom Functions, written the way PyTorch tutorials teach: save the input, derive the
 * backward by hand. Backward recomputes from x with differentiable ops (never from a detached
 * output), so Swish and Mish support double backward. Compare them with the fused ops in the
 * benchmark: same numbers, more kernels.
 */
import { Function, type FunctionCtx, type Tensor } from '@nabla/core';

/** Swish: x·σ(x); d/dx = σ(x)·(1 + x·(1 − σ(x))). */
export class SwishFunction extends Function {
  static override forward(ctx: FunctionCtx, x: Tensor): Tensor {
    ctx.saveForBackward(x);
    return x.mul(x.sigmoid());
  }

  static override backward(ctx: FunctionCtx, g: Tensor): Tensor {
    const [x] = ctx.savedTensors as [Tensor];
    const s = x.sigmoid();
    return g.mul(s.mul(x.mul(s.neg().add(1)).add(1)));
  }
}

/** Mish: x·tanh(softplus(x)); d/dx = tanh(sp) + x·σ(x)·(1 − tanh²(sp)). */
export class MishFunction extends Function {
  static override forward(ctx: FunctionCtx, x: Tensor): Tensor {
    ctx.saveForBackward(x);
    return x.mul(softplus(x).tanh());
  }

  static override backward(ctx: FunctionCtx, g: Tensor): Tensor {
    const [x] = ctx.savedTensors as [Tensor];
    const t = softplus(x).tanh();
    return g.mul(t.add(x.mul(x.sigmoid()).mul(t.square().neg().add(1))));
  }
}

/** HardSwish: x·relu6(x + 3)/6; d/dx = 0 below −3, x/3 + ½ up to 3, 1 above (PyTorch's kinks). */
export class HardSwishFunction extends Function {
  static override forward(ctx: FunctionCtx, x: Tensor): Tensor {
    ctx.saveForBackward(x);
    return x.mul(x.add(3).clamp(0, 6)).div(6);
  }

  static override backward(ctx: FunctionCtx, g: Tensor): Tensor {
    const [x] = ctx.savedTensors as [Tensor];
    const mid = x.div(3).add(0.5);
    const d = mid.mul(x.ge(-3).logicalAnd(x.le(3))).add(x.gt(3));
    return g.mul(d);
  }
}

/** Stable softplus with core ops: max(x, 0) + log1p(exp(−|x|)). */
function softplus(x: Tensor): Tensor {
  return x.relu().add(x.abs().neg().exp().log1p());
}
