/**
 * WGSL helper functions with PyTorch's semantics, emitted into a shader only when it uses them.
 *
 * WGSL lets implementations assume there are no NaNs or infinities, and they do: SwiftShader
 * folds `x != x` to false, its `max` drops NaNs and its `tanh(100)` is NaN. So nothing here
 * relies on IEEE behaviour of comparisons or builtins at the edges:
 * - NaN and ±inf are detected from the bit pattern and produced from bit patterns held in a
 *   `var` (a non-const expression, so no shader-creation error either);
 * - every builtin is guarded outside its WGSL domain (log of 0 or negatives, sqrt of negatives,
 *   exp overflow, asin/acos outside [-1, 1], atan2(0, 0));
 * - functions WGSL lacks or computes badly in f32 are spelled out (the same formulas as the WebGL
 *   backend's GLSL helpers, with the constants of core's `F32_MATH`): exp, sin, cos and tan by
 *   Cody–Waite reduction,
 *   log, log1p and expm1 accurate near their zero by series, atan/asin/acos/atan2 from Cephes'
 *   f32 polynomials (drivers' builtins are off by up to 1e-4 relative), tanh through
 *   expm1 (stable for any |x|), erf (Maclaurin series below 0.5,
 *   Abramowitz–Stegun 7.1.26 above, ≤ 1.5e-7 absolute), and pow (exact repeated squaring for
 *   integer exponents up to 64, which also gives negative bases their sign; C99's special cases).
 */

import { F32_MATH as M, hornerExpr, hornerSteps } from '@nabla/core';

interface Helper {
  readonly deps: readonly string[];
  readonly code: string;
}

const H: Record<string, Helper> = {
  nb_isnan: { deps: [], code: `fn nb_isnan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }` },
  nb_isinf: { deps: [], code: `fn nb_isinf(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) == 0x7f800000u; }` },
  nb_nan: { deps: [], code: `fn nb_nan() -> f32 { var b = 0x7fc00000u; return bitcast<f32>(b); }` },
  nb_inf: { deps: [], code: `fn nb_inf() -> f32 { var b = 0x7f800000u; return bitcast<f32>(b); }` },
  nb_signbit: { deps: [], code: `fn nb_signbit(x: f32) -> bool { return (bitcast<u32>(x) & 0x80000000u) != 0u; }` },
  // NaN counts as true (C and PyTorch: any non-zero value).
  nb_truthy: { deps: ['nb_isnan'], code: `fn nb_truthy(x: f32) -> bool { return x != 0.0 || nb_isnan(x); }` },
  nb_lt: { deps: ['nb_isnan'], code: `fn nb_lt(a: f32, b: f32) -> bool { return !nb_isnan(a) && !nb_isnan(b) && a < b; }` },
  nb_le: { deps: ['nb_isnan'], code: `fn nb_le(a: f32, b: f32) -> bool { return !nb_isnan(a) && !nb_isnan(b) && a <= b; }` },
  nb_eq: { deps: ['nb_isnan'], code: `fn nb_eq(a: f32, b: f32) -> bool { return !nb_isnan(a) && !nb_isnan(b) && a == b; }` },
  nb_max: {
    deps: ['nb_isnan', 'nb_nan'],
    code: `fn nb_max(a: f32, b: f32) -> f32 { if (nb_isnan(a) || nb_isnan(b)) { return nb_nan(); } return max(a, b); }`,
  },
  nb_min: {
    deps: ['nb_isnan', 'nb_nan'],
    code: `fn nb_min(a: f32, b: f32) -> f32 { if (nb_isnan(a) || nb_isnan(b)) { return nb_nan(); } return min(a, b); }`,
  },
  // float -> int32 store: truncate toward zero, wrap modulo 2^32 like JavaScript's ToInt32; NaN, inf -> 0.
  nb_f2i: {
    deps: ['nb_isnan', 'nb_isinf'],
    code: `fn nb_f2i(x: f32) -> i32 {
  if (nb_isnan(x) || nb_isinf(x)) { return 0; }
  let t = trunc(x);
  if (abs(t) < 2147483648.0) { return i32(t); }
  let r = t - 4294967296.0 * floor(t / 4294967296.0);
  return bitcast<i32>(u32(r));
}`,
  },
  // e^x = 2^k · e^r with r = x - k·ln 2 split in two parts (Cody–Waite), |r| <= ln2/2: the
  // builtin's error grows with |x| (WGSL allows 3 + 2|x| ulp), on r it stays at an ulp or two.
  nb_exp: {
    deps: ['nb_isnan', 'nb_inf'],
    code: `fn nb_exp(x: f32) -> f32 {
  if (nb_isnan(x)) { return x; }
  if (x > ${M.expOverflow}) { return nb_inf(); }
  if (x < ${M.expUnderflow}) { return 0.0; }
  let k = round(x * ${M.log2e});
  let r = (x - k * ${M.ln2Hi}) - k * ${M.ln2Lo};
  return ldexp(exp(r), i32(k));
}`,
  },
  // Near 1 the builtin log has an absolute (not relative) error bound; x - 1 is exact there
  // (Sterbenz), so the log1p series takes over.
  nb_log: {
    deps: ['nb_isnan', 'nb_isinf', 'nb_nan', 'nb_inf', 'nb_log1p_series'],
    code: `fn nb_log(x: f32) -> f32 {
  if (nb_isnan(x) || x < 0.0) { return nb_nan(); }
  if (x == 0.0) { return -nb_inf(); }
  if (nb_isinf(x)) { return x; }
  if (x > 0.5 && x < 2.0) { return nb_log1p_series(x - 1.0); }
  return log(x);
}`,
  },
  // log(1 + x) = 2·atanh(s), s = x / (2 + x), by its series; for -0.5 < x < 1 (|s| <= 1/3).
  nb_log1p_series: {
    deps: [],
    code: `fn nb_log1p_series(x: f32) -> f32 {
  let s = x / (2.0 + x);
  let s2 = s * s;
  var p = 1.0 / 17.0;
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
  nb_sqrt: {
    deps: ['nb_isnan', 'nb_isinf', 'nb_nan'],
    code: `fn nb_sqrt(x: f32) -> f32 {
  if (nb_isnan(x) || x < 0.0) { return nb_nan(); }
  if (x == 0.0 || nb_isinf(x)) { return x; }
  return sqrt(x);
}`,
  },
  nb_rsqrt: {
    deps: ['nb_isnan', 'nb_isinf', 'nb_nan', 'nb_inf', 'nb_signbit'],
    code: `fn nb_rsqrt(x: f32) -> f32 {
  if (nb_isnan(x) || x < 0.0) { return nb_nan(); }
  if (x == 0.0) { return select(nb_inf(), -nb_inf(), nb_signbit(x)); }
  if (nb_isinf(x)) { return 0.0; }
  return 1.0 / sqrt(x);
}`,
  },
  // e^x - 1: series below |x| = 0.5 (exp(x) - 1 would cancel), exp(x) - 1 above.
  nb_expm1: {
    deps: ['nb_exp'],
    code: `fn nb_expm1(x: f32) -> f32 {
  if (x == 0.0) { return x; }
  if (abs(x) < 0.5) {
    var p = ${M.expm1Series[0]};
${hornerSteps('p', 'x', M.expm1Series.slice(1), '    ')}
    return x + x * x * p;
  }
  return nb_exp(x) - 1.0;
}`,
  },
  // log(1 + x): the series where log(1 + x) would lose x's low bits, the log above.
  nb_log1p: {
    deps: ['nb_isnan', 'nb_nan', 'nb_inf', 'nb_log', 'nb_log1p_series'],
    code: `fn nb_log1p(x: f32) -> f32 {
  if (nb_isnan(x) || x < -1.0) { return nb_nan(); }
  if (x == -1.0) { return -nb_inf(); }
  if (x > -0.5 && x < 1.0) { return nb_log1p_series(x); }
  return nb_log(1.0 + x);
}`,
  },
  nb_tanh: {
    deps: ['nb_isnan', 'nb_expm1'],
    code: `fn nb_tanh(x: f32) -> f32 {
  if (nb_isnan(x) || x == 0.0) { return x; }
  let a = abs(x);
  var r = 1.0;
  if (a < 10.0) {
    let e = nb_expm1(-2.0 * a);
    r = -e / (2.0 + e);
  }
  return select(r, -r, x < 0.0);
}`,
  },
  nb_sigmoid: {
    deps: ['nb_isnan', 'nb_exp'],
    code: `fn nb_sigmoid(x: f32) -> f32 {
  if (nb_isnan(x)) { return x; }
  if (x >= 0.0) { return 1.0 / (1.0 + nb_exp(-x)); }
  let e = nb_exp(x);
  return e / (1.0 + e);
}`,
  },
  nb_erf: {
    deps: ['nb_isnan', 'nb_exp'],
    code: `fn nb_erf(x: f32) -> f32 {
  if (nb_isnan(x)) { return x; }
  let a = abs(x);
  if (a < 0.5) {
    let s = x * x;
    var p = ${M.erfSeries[0]};
${hornerSteps('p', 's', M.erfSeries.slice(1), '    ')}
    return ${M.twoOverSqrtPi} * x * p;
  }
  if (a >= 4.0) { return select(1.0, -1.0, x < 0.0); }
  let t = 1.0 / (1.0 + ${M.erfAsP} * a);
  let poly = t * (${M.erfAs[0]} + t * (${M.erfAs[1]} + t * (${M.erfAs[2]} + t * (${M.erfAs[3]} + t * ${M.erfAs[4]}))));
  let r = 1.0 - poly * nb_exp(-a * a);
  return select(r, -r, x < 0.0);
}`,
  },
  // sin/cos: Cody–Waite reduction by π/4 with π/4 in four parts of <= 11 bits and the multiple
  // split in two 12-bit halves, so every product is exact; then Cephes' f32 polynomials on
  // |r| <= π/4. About 2e-7 relative up to |x| = 4e6 (SwiftShader's builtins are off by 2e-5).
  nb_sincos: {
    deps: [],
    code: `fn nb_sincos(x: f32) -> vec2<f32> {
  let ax = abs(x);
  if (ax > ${M.sinCosReduceLimit}) { return vec2<f32>(sin(x), cos(x)); }
  var j = u32(floor(ax * ${M.fourOverPi}));
  j = j + (j & 1u);
  let y = f32(j);
  let yh = floor(y / ${M.sinCosSplit}) * ${M.sinCosSplit};
  let yl = y - yh;
  var r = ax;
${M.piOver4Parts.map((c) => `  r = r - yh * ${c};\n  r = r - yl * ${c};\n`).join('')}  let z = r * r;
  let s = ${hornerExpr('z', M.sinPoly)} * z * r + r;
  let c = ${hornerExpr('z', M.cosPoly)} * z * z - 0.5 * z + 1.0;
  let k = (j >> 1u) & 3u;
  var sn = s;
  var cs = c;
  if (k == 1u) {
    sn = c;
    cs = -s;
  } else if (k == 2u) {
    sn = -s;
    cs = -c;
  } else if (k == 3u) {
    sn = -c;
    cs = s;
  }
  if ((bitcast<u32>(x) & 0x80000000u) != 0u) { sn = -sn; }
  return vec2<f32>(sn, cs);
}`,
  },
  nb_sin: {
    deps: ['nb_isnan', 'nb_isinf', 'nb_nan', 'nb_sincos'],
    code: `fn nb_sin(x: f32) -> f32 { if (nb_isnan(x) || nb_isinf(x)) { return nb_nan(); } if (x == 0.0) { return x; } return nb_sincos(x).x; }`,
  },
  nb_cos: {
    deps: ['nb_isnan', 'nb_isinf', 'nb_nan', 'nb_sincos'],
    code: `fn nb_cos(x: f32) -> f32 { if (nb_isnan(x) || nb_isinf(x)) { return nb_nan(); } return nb_sincos(x).y; }`,
  },
  nb_tan: {
    deps: ['nb_isnan', 'nb_isinf', 'nb_nan', 'nb_sincos'],
    code: `fn nb_tan(x: f32) -> f32 {
  if (nb_isnan(x) || nb_isinf(x)) { return nb_nan(); }
  if (x == 0.0) { return x; }
  let sc = nb_sincos(x);
  return sc.x / sc.y;
}`,
  },
  // atan, asin: Cephes' single-precision range reductions and polynomials (≤ 3e-7 relative);
  // Mesa's builtins are off by 1e-5 and SwiftShader's acos by 1e-4.
  nb_atan_core: {
    deps: [],
    code: `fn nb_atan_core(x0: f32) -> f32 {
  var x = abs(x0);
  var y0 = 0.0;
  if (x > ${M.tan3PiOver8}) {
    y0 = ${M.piOver2};
    x = -1.0 / x;
  } else if (x > ${M.tanPiOver8}) {
    y0 = ${M.piOver4};
    x = (x - 1.0) / (x + 1.0);
  }
  let z = x * x;
  var p = ${M.atanPoly[0]};
${hornerSteps('p', 'z', M.atanPoly.slice(1), '  ')}
  let y = y0 + (p * z * x + x);
  return select(y, -y, (bitcast<u32>(x0) & 0x80000000u) != 0u);
}`,
  },
  nb_atan: {
    deps: ['nb_isnan', 'nb_isinf', 'nb_atan_core'],
    code: `fn nb_atan(x: f32) -> f32 {
  if (nb_isnan(x)) { return x; }
  if (nb_isinf(x)) { return select(${M.piOver2}, -${M.piOver2}, x < 0.0); }
  return nb_atan_core(x);
}`,
  },
  nb_asin_core: {
    deps: [],
    code: `fn nb_asin_core(x0: f32) -> f32 {
  let a = abs(x0);
  if (a < 1e-4) { return x0; }
  var x = a;
  var z = a * a;
  let far = a > 0.5;
  if (far) {
    z = 0.5 * (1.0 - a);
    x = sqrt(z);
  }
  var p = ${M.asinPoly[0]};
${hornerSteps('p', 'z', M.asinPoly.slice(1), '  ')}
  var r = p * z * x + x;
  if (far) { r = ${M.piOver2} - (r + r); }
  return select(r, -r, x0 < 0.0);
}`,
  },
  nb_asin: {
    deps: ['nb_isnan', 'nb_nan', 'nb_asin_core'],
    code: `fn nb_asin(x: f32) -> f32 { if (nb_isnan(x) || abs(x) > 1.0) { return nb_nan(); } return nb_asin_core(x); }`,
  },
  // acos through asin: π/2 - asin(x) in the middle, 2·asin(√((1 - x)/2)) near ±1 (1 - x is exact).
  nb_acos: {
    deps: ['nb_isnan', 'nb_nan', 'nb_asin_core'],
    code: `fn nb_acos(x: f32) -> f32 {
  if (nb_isnan(x) || abs(x) > 1.0) { return nb_nan(); }
  if (x > 0.5) { return 2.0 * nb_asin_core(sqrt((1.0 - x) * 0.5)); }
  if (x < -0.5) { return ${M.pi} - 2.0 * nb_asin_core(sqrt((1.0 + x) * 0.5)); }
  return ${M.piOver2} - nb_asin_core(x);
}`,
  },
  nb_atan2: {
    deps: ['nb_isnan', 'nb_nan', 'nb_isinf', 'nb_signbit', 'nb_atan_core'],
    code: `fn nb_atan2(y: f32, x: f32) -> f32 {
  if (nb_isnan(x) || nb_isnan(y)) { return nb_nan(); }
  let pi = ${M.pi};
  if (y == 0.0) {
    if (nb_signbit(x)) { return select(pi, -pi, nb_signbit(y)); }
    return y;
  }
  if (x == 0.0) { return select(pi / 2.0, -pi / 2.0, y < 0.0); }
  if (nb_isinf(x)) {
    if (nb_isinf(y)) {
      let q = select(pi / 4.0, 3.0 * pi / 4.0, x < 0.0);
      return select(q, -q, y < 0.0);
    }
    let z = select(0.0, pi, x < 0.0);
    return select(z, -z, nb_signbit(y));
  }
  if (nb_isinf(y)) { return select(pi / 2.0, -pi / 2.0, y < 0.0); }
  let r = nb_atan_core(y / x);
  if (x > 0.0) { return r; }
  return select(r + pi, r - pi, y < 0.0);
}`,
  },
  nb_floor: { deps: ['nb_isnan'], code: `fn nb_floor(x: f32) -> f32 { if (nb_isnan(x)) { return x; } return floor(x); }` },
  nb_ceil: { deps: ['nb_isnan'], code: `fn nb_ceil(x: f32) -> f32 { if (nb_isnan(x)) { return x; } return ceil(x); }` },
  nb_trunc: { deps: ['nb_isnan'], code: `fn nb_trunc(x: f32) -> f32 { if (nb_isnan(x)) { return x; } return trunc(x); }` },
  // WGSL's round already rounds half to even (PyTorch's rule).
  nb_round: { deps: ['nb_isnan'], code: `fn nb_round(x: f32) -> f32 { if (nb_isnan(x)) { return x; } return round(x); }` },
  nb_sign: {
    deps: ['nb_isnan'],
    // (0 < x) - (x < 0), as PyTorch: sign(-0) = +0 (a plain "return 0.0" came back as -0 on Mesa).
    code: `fn nb_sign(x: f32) -> f32 { if (nb_isnan(x)) { return x; } return f32(x > 0.0) - f32(x < 0.0); }`,
  },
  nb_relu: { deps: ['nb_isnan'], code: `fn nb_relu(x: f32) -> f32 { if (nb_isnan(x) || x > 0.0) { return x; } return 0.0; }` },
  nb_pow: {
    deps: ['nb_isnan', 'nb_isinf', 'nb_nan', 'nb_inf', 'nb_signbit'],
    code: `fn nb_pow(a: f32, b: f32) -> f32 {
  if (b == 0.0 || a == 1.0) { return 1.0; }
  if (nb_isnan(a) || nb_isnan(b)) { return nb_nan(); }
  let aa = abs(a);
  if (nb_isinf(b)) {
    if (aa == 1.0) { return 1.0; }
    if ((aa > 1.0) == (b > 0.0)) { return nb_inf(); }
    return 0.0;
  }
  let integral = trunc(b) == b;
  if (integral && abs(b) <= 64.0) {
    var e = u32(abs(b));
    var base = a;
    var r = 1.0;
    loop {
      if ((e & 1u) == 1u) { r = r * base; }
      e = e >> 1u;
      if (e == 0u) { break; }
      base = base * base;
    }
    if (b < 0.0) { return 1.0 / r; }
    return r;
  }
  if (a < 0.0 && !integral && !nb_isinf(a)) { return nb_nan(); }
  // |b| > 64 here when b is integral; odd only below 2^24 (every f32 above is even).
  let odd = integral && abs(b) < 16777216.0 && (u32(abs(b)) & 1u) == 1u;
  var r = 0.0;
  if (aa == 0.0) {
    r = select(nb_inf(), 0.0, b > 0.0);
  } else if (nb_isinf(aa)) {
    r = select(0.0, nb_inf(), b > 0.0);
  } else {
    let l = b * log2(aa);
    if (l > 128.0) { r = nb_inf(); } else if (l < -150.0) { r = 0.0; } else { r = exp2(l); }
  }
  if (odd && nb_signbit(a)) { r = -r; }
  return r;
}`,
  },
  // Integer power with int32 wrap-around; negative exponents give C's integer result.
  nb_ipow: {
    deps: [],
    code: `fn nb_ipow(a: i32, b: i32) -> i32 {
  if (b < 0) {
    if (a == 1) { return 1; }
    if (a == -1) { return select(-1, 1, (b & 1) == 0); }
    return 0;
  }
  var e = u32(b);
  var base = a;
  var r = 1;
  loop {
    if (e == 0u) { break; }
    if ((e & 1u) == 1u) { r = r * base; }
    e = e >> 1u;
    base = base * base;
  }
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
    if (!h) throw new Error(`webgpu: unknown WGSL helper ${n}`);
    for (const d of h.deps) visit(d);
    out.push(h.code);
  };
  for (const n of names) visit(n);
  return out.join('\n');
}

export const HELPER_NAMES: readonly string[] = Object.keys(H);
