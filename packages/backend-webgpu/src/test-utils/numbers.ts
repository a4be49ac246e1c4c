/**
 * Test data and tolerances shared by the Node suites and the browser page (so no vitest here: the
 * page is bundled for Chromium).
 */

export interface Tolerance {
  readonly rtol?: number;
  readonly atol?: number;
}

/** Deterministic uniform numbers in [lo, hi) (xorshift32), shared with the webgl suites through the testkit. */
export { randoms } from '@nabla/backend-testkit';

/**
 * Where `got` differs from `want` beyond |got − want| <= atol + rtol·|want| (NaN matches NaN,
 * infinities match exactly): how many, and the first `show` of them described.
 */
export function mismatches(got: ArrayLike<number>, want: ArrayLike<number>, tol: Tolerance = {}, show = 8): { count: number; first: string[] } {
  const rtol = tol.rtol ?? 1e-6;
  const atol = tol.atol ?? 1e-6;
  const first: string[] = [];
  let count = 0;
  for (let i = 0; i < want.length; i++) {
    const g = Number(got[i]);
    const w = Number(want[i]);
    let ok: boolean;
    if (Number.isNaN(w) || Number.isNaN(g)) ok = Number.isNaN(w) && Number.isNaN(g);
    else if (!Number.isFinite(w) || !Number.isFinite(g)) ok = g === w;
    else ok = Math.abs(g - w) <= atol + rtol * Math.abs(w);
    if (!ok && count++ < show) first.push(`[${i}] got ${g}, want ${w}`);
  }
  return { count, first };
}
