"""Minimax fit of exp's polynomial for the SIMD float32 kernels (src/wasm/vmath.ts, EXP_POLY).

e^r = 1 + r + r^2 * (c2 + c3 r + ... ), |r| <= ln2/2, fitted for the smallest maximum relative
error of e^r by Lawson's iteratively reweighted least squares. Prints the error in float32 ulps
and the coefficients rounded to float32.

    python3 scripts/fit-expf.py 5    # c2..c6: 0.05 ulp (what vmath.ts uses)
    python3 scripts/fit-expf.py 4    # c2..c5: 1.8 ulp, too much for a 2-ulp budget
"""
import sys

import numpy as np

deg = int(sys.argv[1]) if len(sys.argv) > 1 else 5
a = np.log(2) / 2 * 1.0001
r = np.linspace(-a, a, 20001)
r = r[r != 0]
f = (np.expm1(r) - r) / r**2
w = r**2 / np.exp(r)  # an error in the polynomial, relative to e^r
V = np.vstack([r**k for k in range(deg)]).T
wt = np.ones_like(r)
for _ in range(200):
    W = w * np.sqrt(wt)
    c, *_ = np.linalg.lstsq(V * W[:, None], f * W, rcond=None)
    err = np.abs((V @ c - f) * w)
    wt *= err / err.max() + 1e-12
    wt /= wt.sum()
print(f"max relative error {err.max():.3g} = {err.max() / 2**-24:.3f} ulp")
print([float(np.float32(x)) for x in c])
