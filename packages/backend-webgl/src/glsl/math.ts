/**
 * GLSL helper functions with PyTorch's semantics, emitted into a kernel only when it uses them.
 *
 * Written in GLSL ES 1.00 (headless-gl is WebGL1) so the same text also compiles under WebGL2's
 * GLSL ES 3.00. GLSL ES 1.00 has no `isnan`, no bit casts, no `round`/`trunc`, and lets drivers
 * fold IEEE edge cases, so:
 * - NaN and ±inf are produced at run time from a zero the kernel receives as a uniform
 *   (`nb_zero`, set by the kernel's entry function): a constant `0.0 / 0.0` is folded or rejected
 *   by some compilers;
 * - every builtin is guarded outside its domain (log of 0 or negatives, sqrt of negatives, exp
 *   overflow, asin/acos outside [-1, 1], atan2(0, 0));
 * - functions GLSL lacks or computes loosely are spelled out (the same formulas as the WebGPU
 *   backend's WGSL helpers, with the constants of core's `F32_MATH`): exp by Cody–Waite reduction, log/log1p/expm1 by series near their
 *   zero, tanh through expm1, erf (series below 0.5, Abramowitz–Stegun 7.1.26 above), atan/asin/
 *   acos from Cephes' f32 polynomials, pow by exact repeated squaring for integer exponents.
 */

import { F32_MATH as M, hornerExpr, hornerSteps } from '@nabla/core';

interface Helper {
  readonly deps: readonly string[];
  readonly code: string;
}

const H: Record<string, Helper> = {
  // The kernel's entry function stores its zero uniform here before anything else runs.
  nb_zero: { deps: [], code: `float nb_zero = 0.0;` },
  // Drivers disagree on which NaN test they keep: Mesa (llvmpipe, through headless-gl's ANGLE)
  // rewrites !(x < 0.0) as x >= 0.0 but keeps x != x; others fold x != x to false. Either test
  // alone is false for every number, so their disjunction is exact wherever one survives.
  nb_isnan: { deps: [], code: `bool nb_isnan(float x) { return x != x || (!(x < 0.0) && !(x > 0.0) && !(x == 0.0)); }` },
  nb_isinf: { deps: ['nb_isnan'], code: `bool nb_isinf(float x) { return !nb_isnan(x) && abs(x) > 3.4028235e38; }` },
  nb_nan: { deps: ['nb_zero'], code: `float nb_nan() { return nb_zero / nb_zero; }` },
  nb_inf: { deps: ['nb_zero'], code: `float nb_inf() { return 1.0 / nb_zero; }` },
  nb_truthy: { deps: ['nb_isnan'], code: `bool nb_truthy(float x) { return x != 0.0 || nb_isnan(x); }` },
  nb_lt: { deps: ['nb_isnan'], code: `bool nb_lt(float a, float b) { return !nb_isnan(a) && !nb_isnan(b) && a < b; }` },
  nb_le: { deps: ['nb_isnan'], code: `bool nb_le(float a, float b) { return !nb_isnan(a) && !nb_isnan(b) && a <= b; }` },
  nb_eq: { deps: ['nb_isnan'], code: `bool nb_eq(float a, float b) { return !nb_isnan(a) && !nb_isnan(b) && a == b; }` },
  nb_sel: { deps: [], code: `float nb_sel(bool c, float a, float b) { if (c) { return a; } return b; }` },
  nb_max: {
    deps: ['nb_isnan', 'nb_nan'],
    code: `float nb_max(float a, float b) { if (nb_isnan(a) || nb_isnan(b)) { return nb_nan(); } return max(a, b); }`,
  },
  nb_min: {
    deps: ['nb_isnan', 'nb_nan'],
    code: `float nb_min(float a, float b) { if (nb_isnan(a) || nb_isnan(b)) { return nb_nan(); } return min(a, b); }`,
  },
  nb_trunc: {
    deps: ['nb_isnan', 'nb_isinf'],
    code: `float nb_trunc(float x) { if (nb_isnan(x) || nb_isinf(x)) { return x; } if (x < 0.0) { return -floor(-x); } return floor(x); }`,
  },
  // float -> int32 store: truncate toward zero; NaN and inf -> 0. Exact for |x| < 2^24 (the
  // device's int32 range: integers are held in float32 textures).
  nb_f2i: {
    deps: ['nb_isnan', 'nb_isinf', 'nb_trunc'],
    code: `float nb_f2i(float x) { if (nb_isnan(x) || nb_isinf(x)) { return 0.0; } return nb_trunc(x); }`,
  },
  nb_f2b: { deps: ['nb_truthy'], code: `float nb_f2b(float x) { if (nb_truthy(x)) { return 1.0; } return 0.0; }` },
  nb_exp: {
    deps: ['nb_isnan', 'nb_inf'],
    code: `float nb_exp(float x) {
  if (nb_isnan(x)) { return x; }
  if (x > ${M.expOverflow}) { return nb_inf(); }
  if (x < ${M.expUnderflow}) { return 0.0; }
  float k = floor(x * ${M.log2e} + 0.5);
  float r = (x - k * ${M.ln2Hi}) - k * ${M.ln2Lo};
  // 2^k in two halves: exp2(128) alone would overflow before e^r < 1 brings it back.
  float h = floor(k * 0.5);
  return exp(r) * exp2(h) * exp2(k - h);
}`,
  },
  nb_log1p_series: {
    deps: [],
    code: `float nb_log1p_series(float x) {
  float s = x / (2.0 + x);
  float s2 = s * s;
  float p = 1.0 / 17.0;
  p = p * s2 + 1.0 / 15.0;
  p = p * s2 + 1.0 / 13.0;
  p = p * s2 + 1.0 / 11.0;
  p = p * s2 + 1.0 / 9.0;
  p = p * s2 + 1.0 / 7.0;
  p = p * s2 + 1.0 / 5.0;
  p = p * s2 + 1.0 / 3.0;
  return 2.0 * (s + s * s2 * p);
}`,
  },
  nb_log: {
    deps: ['nb_isnan', 'nb_isinf', 'nb_nan', 'nb_inf', 'nb_log1p_series'],
    code: `float nb_log(float x) {
  if (nb_isnan(x) || x < 0.0) { return nb_nan(); }
  if (x == 0.0) { return -nb_inf(); }
  if (nb_isinf(x)) { return x; }
  if (x > 0.5 && x < 2.0) { return nb_log1p_series(x - 1.0); }
  return log(x);
}`,
  },
  nb_sqrt: {
    deps: ['nb_isnan', 'nb_isinf', 'nb_nan'],
    code: `float nb_sqrt(float x) {
  if (nb_isnan(x) || x < 0.0) { return nb_nan(); }
  if (x == 0.0 || nb_isinf(x)) { return x; }
  return sqrt(x);
}`,
  },
  nb_rsqrt: {
    deps: ['nb_isnan', 'nb_isinf', 'nb_nan', 'nb_inf'],
    code: `float nb_rsqrt(float x) {
  if (nb_isnan(x) || x < 0.0) { return nb_nan(); }
  if (x == 0.0) { return 1.0 / x; }
  if (nb_isinf(x)) { return 0.0; }
  return 1.0 / sqrt(x);
}`,
  },
  nb_expm1: {
    deps: ['nb_exp'],
    code: `float nb_expm1(float x) {
  if (x == 0.0) { return x; }
  if (abs(x) < 0.5) {
    float p = ${M.expm1Series[0]};
${hornerSteps('p', 'x', M.expm1Series.slice(1), '    ')}
    return x + x * x * p;
  }
  return nb_exp(x) - 1.0;
}`,
  },
  nb_log1p: {
    deps: ['nb_isnan', 'nb_nan', 'nb_inf', 'nb_log', 'nb_log1p_series'],
    code: `float nb_log1p(float x) {
  if (nb_isnan(x) || x < -1.0) { return nb_nan(); }
  if (x == -1.0) { return -nb_inf(); }
  if (x > -0.5 && x < 1.0) { return nb_log1p_series(x); }
  return nb_log(1.0 + x);
}`,
  },
  nb_tanh: {
    deps: ['nb_isnan', 'nb_expm1'],
    code: `float nb_tanh(float x) {
  if (nb_isnan(x) || x == 0.0) { return x; }
  float a = abs(x);
  float r = 1.0;
  if (a < 10.0) {
    float e = nb_expm1(-2.0 * a);
    r = -e / (2.0 + e);
  }
  if (x < 0.0) { return -r; }
  return r;
}`,
  },
  nb_sigmoid: {
    deps: ['nb_isnan', 'nb_exp'],
    code: `float nb_sigmoid(float x) {
  if (nb_isnan(x)) { return x; }
  if (x >= 0.0) { return 1.0 / (1.0 + nb_exp(-x)); }
  float e = nb_exp(x);
  return e / (1.0 + e);
}`,
  },
  nb_erf: {
    deps: ['nb_isnan', 'nb_exp'],
    code: `float nb_erf(float x) {
  if (nb_isnan(x)) { return x; }
  float a = abs(x);
  if (a < 0.5) {
    float s = x * x;
    float p = ${M.erfSeries[0]};
${hornerSteps('p', 's', M.erfSeries.slice(1), '    ')}
    return ${M.twoOverSqrtPi} * x * p;
  }
  if (a >= 4.0) { if (x < 0.0) { return -1.0; } return 1.0; }
  float t = 1.0 / (1.0 + ${M.erfAsP} * a);
  float poly = t * (${M.erfAs[0]} + t * (${M.erfAs[1]} + t * (${M.erfAs[2]} + t * (${M.erfAs[3]} + t * ${M.erfAs[4]}))));
  float r = 1.0 - poly * nb_exp(-a * a);
  if (x < 0.0) { return -r; }
  return r;
}`,
  },
  // sin/cos: Cody–Waite reduction by π/4 (π/4 in four parts, the multiple in two 12-bit halves so
  // every product is exact), then Cephes' f32 polynomials on |r| <= π/4.
  nb_sincos: {
    deps: [],
    code: `vec2 nb_sincos(float x) {
  float ax = abs(x);
  if (ax > ${M.sinCosReduceLimit}) { return vec2(sin(x), cos(x)); }
  float j = floor(ax * ${M.fourOverPi});
  j = j + mod(j, 2.0);
  float yh = floor(j / ${M.sinCosSplit}) * ${M.sinCosSplit};
  float yl = j - yh;
  float r = ax;
${M.piOver4Parts.map((c) => `  r = r - yh * ${c};\n  r = r - yl * ${c};\n`).join('')}  float z = r * r;
  float s = ${hornerExpr('z', M.sinPoly)} * z * r + r;
  float c = ${hornerExpr('z', M.cosPoly)} * z * z - 0.5 * z + 1.0;
  float k = mod(floor(j / 2.0), 4.0);
  float sn = s;
  float cs = c;
  if (k == 1.0) { sn = c; cs = -s; }
  else if (k == 2.0) { sn = -s; cs = -c; }
  else if (k == 3.0) { sn = -c; cs = s; }
  if (x < 0.0) { sn = -sn; }
  return vec2(sn, cs);
}`,
  },
  nb_sin: {
    deps: ['nb_isnan', 'nb_isinf', 'nb_nan', 'nb_sincos'],
    code: `float nb_sin(float x) { if (nb_isnan(x) || nb_isinf(x)) { return nb_nan(); } if (x == 0.0) { return x; } return nb_sincos(x).x; }`,
  },
  nb_cos: {
    deps: ['nb_isnan', 'nb_isinf', 'nb_nan', 'nb_sincos'],
    code: `float nb_cos(float x) { if (nb_isnan(x) || nb_isinf(x)) { return nb_nan(); } return nb_sincos(x).y; }`,
  },
  nb_tan: {
    deps: ['nb_isnan', 'nb_isinf', 'nb_nan', 'nb_sincos'],
    code: `float nb_tan(float x) {
  if (nb_isnan(x) || nb_isinf(x)) { return nb_nan(); }
  if (x == 0.0) { return x; }
  vec2 sc = nb_sincos(x);
  return sc.x / sc.y;
}`,
  },
  nb_atan_core: {
    deps: [],
    code: `float nb_atan_core(float x0) {
  float x = abs(x0);
  float y0 = 0.0;
  if (x > ${M.tan3PiOver8}) {
    y0 = ${M.piOver2};
    x = -1.0 / x;
  } else if (x > ${M.tanPiOver8}) {
    y0 = ${M.piOver4};
    x = (x - 1.0) / (x + 1.0);
  }
  float z = x * x;
  float p = ${M.atanPoly[0]};
${hornerSteps('p', 'z', M.atanPoly.slice(1), '  ')}
  float y = y0 + (p * z * x + x);
  if (x0 < 0.0) { return -y; }
  return y;
}`,
  },
  nb_atan: {
    deps: ['nb_isnan', 'nb_isinf', 'nb_atan_core'],
    code: `float nb_atan(float x) {
  if (nb_isnan(x)) { return x; }
  if (nb_isinf(x)) { if (x < 0.0) { return -${M.piOver2}; } return ${M.piOver2}; }
  return nb_atan_core(x);
}`,
  },
  nb_asin_core: {
    deps: [],
    code: `float nb_asin_core(float x0) {
  float a = abs(x0);
  if (a < 1e-4) { return x0; }
  float x = a;
  float z = a * a;
  bool far = a > 0.5;
  if (far) {
    z = 0.5 * (1.0 - a);
    x = sqrt(z);
  }
  float p = ${M.asinPoly[0]};
${hornerSteps('p', 'z', M.asinPoly.slice(1), '  ')}
  float r = p * z * x + x;
  if (far) { r = ${M.piOver2} - (r + r); }
  if (x0 < 0.0) { return -r; }
  return r;
}`,
  },
  nb_asin: {
    deps: ['nb_isnan', 'nb_nan', 'nb_asin_core'],
    code: `float nb_asin(float x) { if (nb_isnan(x) || abs(x) > 1.0) { return nb_nan(); } return nb_asin_core(x); }`,
  },
  nb_acos: {
    deps: ['nb_isnan', 'nb_nan', 'nb_asin_core'],
    code: `float nb_acos(float x) {
  if (nb_isnan(x) || abs(x) > 1.0) { return nb_nan(); }
  if (x > 0.5) { return 2.0 * nb_asin_core(sqrt((1.0 - x) * 0.5)); }
  if (x < -0.5) { return ${M.pi} - 2.0 * nb_asin_core(sqrt((1.0 + x) * 0.5)); }
  return ${M.piOver2} - nb_asin_core(x);
}`,
  },
  nb_atan2: {
    deps: ['nb_isnan', 'nb_nan', 'nb_isinf', 'nb_atan_core'],
    code: `float nb_atan2(float y, float x) {
  if (nb_isnan(x) || nb_isnan(y)) { return nb_nan(); }
  float pi = ${M.pi};
  if (y == 0.0) {
    if (x < 0.0) { return pi; }
    return y;
  }
  if (x == 0.0) { if (y < 0.0) { return -pi / 2.0; } return pi / 2.0; }
  if (nb_isinf(x)) {
    if (nb_isinf(y)) {
      float q = x < 0.0 ? 3.0 * pi / 4.0 : pi / 4.0;
      if (y < 0.0) { return -q; }
      return q;
    }
    float z = x < 0.0 ? pi : 0.0;
    if (y < 0.0) { return -z; }
    return z;
  }
  if (nb_isinf(y)) { if (y < 0.0) { return -pi / 2.0; } return pi / 2.0; }
  float r = nb_atan_core(y / x);
  if (x > 0.0) { return r; }
  if (y < 0.0) { return r - pi; }
  return r + pi;
}`,
  },
  nb_floor: { deps: ['nb_isnan'], code: `float nb_floor(float x) { if (nb_isnan(x)) { return x; } return floor(x); }` },
  nb_ceil: { deps: ['nb_isnan'], code: `float nb_ceil(float x) { if (nb_isnan(x)) { return x; } return ceil(x); }` },
  // Half to even (PyTorch's rule).
  nb_round: {
    deps: ['nb_isnan', 'nb_isinf'],
    code: `float nb_round(float x) {
  if (nb_isnan(x) || nb_isinf(x) || abs(x) >= 8388608.0) { return x; }
  float f = floor(x);
  float d = x - f;
  if (d > 0.5) { return f + 1.0; }
  if (d < 0.5) { return f; }
  if (mod(f, 2.0) == 0.0) { return f; }
  return f + 1.0;
}`,
  },
  nb_sign: {
    deps: ['nb_isnan'],
    code: `float nb_sign(float x) { if (nb_isnan(x)) { return x; } if (x > 0.0) { return 1.0; } if (x < 0.0) { return -1.0; } return 0.0; }`,
  },
  nb_relu: { deps: ['nb_isnan'], code: `float nb_relu(float x) { if (nb_isnan(x) || x > 0.0) { return x; } return 0.0; }` },
  nb_pow: {
    deps: ['nb_isnan', 'nb_isinf', 'nb_nan', 'nb_inf'],
    code: `float nb_pow(float a, float b) {
  if (b == 0.0 || a == 1.0) { return 1.0; }
  if (nb_isnan(a) || nb_isnan(b)) { return nb_nan(); }
  float aa = abs(a);
  if (nb_isinf(b)) {
    if (aa == 1.0) { return 1.0; }
    if ((aa > 1.0) == (b > 0.0)) { return nb_inf(); }
    return 0.0;
  }
  bool integral = floor(b) == b;
  if (integral && abs(b) <= 64.0) {
    float e = abs(b);
    float base = a;
    float r = 1.0;
    for (int i = 0; i < 7; i++) {
      if (mod(e, 2.0) == 1.0) { r = r * base; }
      e = floor(e / 2.0);
      if (e == 0.0) { break; }
      base = base * base;
    }
    if (b < 0.0) { return 1.0 / r; }
    return r;
  }
  if (a < 0.0 && !integral && !nb_isinf(a)) { return nb_nan(); }
  bool odd = integral && abs(b) < 16777216.0 && mod(abs(b), 2.0) == 1.0;
  float r = 0.0;
  if (aa == 0.0) {
    r = b > 0.0 ? 0.0 : nb_inf();
  } else if (nb_isinf(aa)) {
    r = b > 0.0 ? nb_inf() : 0.0;
  } else {
    float l = b * log2(aa);
    if (l > 128.0) { r = nb_inf(); } else if (l < -150.0) { r = 0.0; } else { float h = floor(l * 0.5); r = exp2(h) * exp2(l - h); }
  }
  if (odd && a < 0.0) { r = -r; }
  return r;
}`,
  },
};

/** The source of `names` and everything they use, each once, dependencies first. */
export function helperSource(names: Iterable<string>): string {
  const out: string[] = [];
  const seen = new Set<string>();
  const visit = (n: string): void => {
    if (seen.has(n)) return;
    seen.add(n);
    const h = H[n];
    if (!h) throw new Error(`webgl: unknown GLSL helper ${n}`);
    for (const d of h.deps) visit(d);
    out.push(h.code);
  };
  for (const n of names) visit(n);
  return out.join('\n');
}

export const HELPER_NAMES: readonly string[] = Object.keys(H);
