/**
 * Every activation, declared once: forward and derivative as expressions (fused kernels on every
 * backend), second derivative with tensor ops. Formulas and values at the kinks follow PyTorch
 * (aten's *_backward kernels); the forms are chosen to be stable over the whole float range.
 */
import { expr as E, where as whereT, type Expr, type Tensor } from '@nabla/core';
import { defineActivation, type Activation } from './define.js';

const { c, add, sub, mul, div, max, min, where, gt, lt, le, and } = E;

/** log(1 + exp(x)) without overflow: max(x, 0) + log1p(exp(-|x|)). */
const softplusExpr = (x: Expr): Expr => add(max(x, c(0)), E.log1p(E.exp(E.neg(E.abs(x)))));
/** The same with tensor ops. */
const softplusT = (x: Tensor): Tensor => x.relu().add(x.abs().neg().exp().log1p());
const zeros = (x: Tensor): Tensor => x.mul(0);
const between = (x: Tensor, lo: number, hi: number): Tensor => x.gt(lo).logicalAnd(x.lt(hi));

export const SELU_ALPHA = 1.6732632423543772848170429916717;
export const SELU_SCALE = 1.0507009873554804934193349852946;
const SQRT1_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);
/** PyTorch's kBeta = √2 · (2/√π) · ½ = √(2/π), and kKappa. */
const GELU_BETA = Math.SQRT2 * (2 / Math.sqrt(Math.PI)) * 0.5;
const GELU_KAPPA = 0.044715;

export const silu = defineActivation({
  name: 'silu',
  gradName: 'SiluBackward0',
  f: (x) => mul(x, E.sigmoid(x)),
  df: (x) => {
    const s = E.sigmoid(x);
    return mul(s, add(c(1), mul(x, sub(c(1), s))));
  },
  d2f: (x) => {
    const s = x.sigmoid();
    const ds = s.mul(s.neg().add(1));
    return ds.mul(x.mul(s.mul(-2).add(1)).add(2));
  },
  d2fExpr: (x) => {
    const s = E.sigmoid(x);
    return mul(mul(s, sub(c(1), s)), add(c(2), mul(x, sub(c(1), mul(c(2), s)))));
  },
});

export const mish = defineActivation({
  name: 'mish',
  gradName: 'MishBackward0',
  f: (x) => mul(x, E.tanh(softplusExpr(x))),
  df: (x) => {
    const t = E.tanh(softplusExpr(x));
    return add(t, mul(mul(x, E.sigmoid(x)), sub(c(1), mul(t, t))));
  },
  d2f: (x) => {
    const t = softplusT(x).tanh();
    const s = x.sigmoid();
    const sech2 = t.square().neg().add(1);
    // (1 - t²) s [2 + x (1 - s) - 2 x s t]
    return sech2.mul(s).mul(x.mul(s.neg().add(1)).sub(x.mul(s).mul(t).mul(2)).add(2));
  },
});

export const hardswish = defineActivation({
  name: 'hardswish',
  gradName: 'HardswishBackward0',
  f: (x) => mul(x, div(min(max(add(x, c(3)), c(0)), c(6)), c(6))),
  df: (x) => where(lt(x, c(-3)), c(0), where(le(x, c(3)), add(div(x, c(3)), c(0.5)), c(1))),
  d2f: (x) => between(x, -3, 3).to(x.dtype).div(3),
});

export const hardsigmoid = defineActivation({
  name: 'hardsigmoid',
  gradName: 'HardsigmoidBackward0',
  f: (x) => div(min(max(add(x, c(3)), c(0)), c(6)), c(6)),
  df: (x) => where(and(gt(x, c(-3)), lt(x, c(3))), c(1 / 6), c(0)),
  d2f: zeros,
});

export const gelu = defineActivation({
  name: 'gelu',
  gradName: 'GeluBackward0',
  f: (x) => mul(mul(c(0.5), x), add(c(1), E.erf(mul(x, c(SQRT1_2))))),
  df: (x) => {
    const cdf = mul(c(0.5), add(c(1), E.erf(mul(x, c(SQRT1_2)))));
    const pdf = mul(E.exp(mul(c(-0.5), mul(x, x))), c(INV_SQRT_2PI));
    return add(cdf, mul(x, pdf));
  },
  d2f: (x) => x.square().mul(-0.5).exp().mul(INV_SQRT_2PI).mul(x.square().neg().add(2)),
});

export const geluTanh = defineActivation({
  name: 'geluTanh',
  gradName: 'GeluBackward0',
  f: (x) => {
    const inner = mul(c(GELU_BETA), add(x, mul(c(GELU_KAPPA), mul(mul(x, x), x))));
    return mul(mul(c(0.5), x), add(c(1), E.tanh(inner)));
  },
  df: (x) => {
    const x2 = mul(x, x);
    const t = E.tanh(mul(c(GELU_BETA), add(x, mul(c(GELU_KAPPA), mul(x2, x)))));
    const left = mul(c(0.5), add(c(1), t));
    const right = mul(mul(mul(c(0.5), x), sub(c(1), mul(t, t))), mul(c(GELU_BETA), add(c(1), mul(c(3 * GELU_KAPPA), x2))));
    return add(left, right);
  },
  d2f: (x) => {
    const x2 = x.square();
    const t = x.add(x2.mul(x).mul(GELU_KAPPA)).mul(GELU_BETA).tanh();
    const du = x2.mul(3 * GELU_KAPPA).add(1).mul(GELU_BETA);
    const d2u = x.mul(6 * GELU_KAPPA * GELU_BETA);
    const sech2 = t.square().neg().add(1);
    // (1 - t²) [u' + ½ x (u'' - 2 t u'²)]
    return sech2.mul(du.add(x.mul(0.5).mul(d2u.sub(t.mul(2).mul(du.square())))));
  },
});

export const elu = defineActivation({
  name: 'elu',
  gradName: 'EluBackward0',
  params: ['alpha'],
  f: (x, [alpha]) => where(gt(x, c(0)), x, mul(alpha!, E.expm1(x))),
  df: (x, [alpha]) => where(gt(x, c(0)), c(1), mul(alpha!, E.exp(x))),
  // PyTorch masks the second derivative with x < 0 (strict): it is 0 at the kink.
  d2f: (x, [alpha]) => whereT(x.lt(0), x.exp().mul(alpha!), 0),
});

export const selu = defineActivation({
  name: 'selu',
  gradName: 'EluBackward0',
  f: (x) => mul(c(SELU_SCALE), where(gt(x, c(0)), x, mul(c(SELU_ALPHA), E.expm1(x)))),
  df: (x) => where(gt(x, c(0)), c(SELU_SCALE), mul(c(SELU_SCALE * SELU_ALPHA), E.exp(x))),
  d2f: (x) => whereT(x.lt(0), x.exp().mul(SELU_SCALE * SELU_ALPHA), 0),
});

export const celu = defineActivation({
  name: 'celu',
  gradName: 'CeluBackward0',
  params: ['alpha'],
  f: (x, [alpha]) => add(max(c(0), x), min(c(0), mul(alpha!, E.expm1(div(x, alpha!))))),
  df: (x, [alpha]) => where(gt(x, c(0)), c(1), E.exp(div(x, alpha!))),
  d2f: (x, [alpha]) => whereT(x.lt(0), x.div(alpha!).exp().div(alpha!), 0),
});

export const softplus = defineActivation({
  name: 'softplus',
  gradName: 'SoftplusBackward0',
  params: ['beta', 'threshold'],
  f: (x, [beta, threshold]) => {
    const bx = mul(x, beta!);
    return where(gt(bx, threshold!), x, div(softplusExpr(bx), beta!));
  },
  df: (x, [beta, threshold]) => {
    const bx = mul(x, beta!);
    return where(gt(bx, threshold!), c(1), E.sigmoid(bx));
  },
  d2f: (x, [beta, threshold]) => {
    const s = x.mul(beta!).sigmoid();
    // PyTorch masks with βx < threshold (strict), so the second derivative is 0 at the threshold.
    return whereT(x.mul(beta!).lt(threshold!), s.mul(s.neg().add(1)).mul(beta!), 0);
  },
});

export const leakyRelu = defineActivation({
  name: 'leakyRelu',
  gradName: 'LeakyReluBackward0',
  params: ['negativeSlope'],
  f: (x, [slope]) => where(gt(x, c(0)), x, mul(x, slope!)),
  df: (x, [slope]) => where(gt(x, c(0)), c(1), slope!),
  d2f: zeros,
});

export const hardtanh = defineActivation({
  name: 'hardtanh',
  gradName: 'HardtanhBackward0',
  params: ['minVal', 'maxVal'],
  f: (x, [lo, hi]) => min(max(x, lo!), hi!),
  df: (x, [lo, hi]) => where(and(gt(x, lo!), lt(x, hi!)), c(1), c(0)),
  d2f: zeros,
});

export const relu6 = defineActivation({
  name: 'relu6',
  gradName: 'HardtanhBackward0',
  f: (x) => min(max(x, c(0)), c(6)),
  df: (x) => where(and(gt(x, c(0)), lt(x, c(6))), c(1), c(0)),
  d2f: zeros,
});

export const softsign = defineActivation({
  name: 'softsign',
  gradName: 'SoftsignBackward0',
  f: (x) => div(x, add(c(1), E.abs(x))),
  df: (x) => E.reciprocal(E.square(add(c(1), E.abs(x)))),
  d2f: (x) => x.sign().mul(-2).div(x.abs().add(1).pow(3)),
});

export const logsigmoid = defineActivation({
  name: 'logsigmoid',
  gradName: 'LogSigmoidBackward0',
  f: (x) => sub(min(x, c(0)), E.log1p(E.exp(E.neg(E.abs(x))))),
  df: (x) => E.sigmoid(E.neg(x)),
  d2f: (x) => {
    const s = x.sigmoid();
    return s.mul(s.neg().add(1)).neg();
  },
});

export const tanhshrink = defineActivation({
  name: 'tanhshrink',
  gradName: 'TanhshrinkBackward0',
  f: (x) => sub(x, E.tanh(x)),
  df: (x) => E.square(E.tanh(x)),
  d2f: (x) => {
    const t = x.tanh();
    return t.mul(2).mul(t.square().neg().add(1));
  },
});

/** Every activation the plugin declares. */
export const ALL: readonly Activation[] = [
  silu, mish, hardswish, hardsigmoid, gelu, geluTanh, elu, selu, celu, softplus, leakyRelu, hardtanh, relu6, softsign, logsigmoid, tanhshrink,
];


