#!/usr/bin/env python3
"""Fits the polynomial that ct_erff (src/nn/vecmath.h) uses for |x| >= 1.

g(x) = erfc(x) exp(x^2) on [1, 4], least squares on the Chebyshev basis in u = (x - 2.5) / 1.5,
degree 12, printed as power-basis coefficients in u (lowest first) for a float Horner loop.
Prints the relative error of the fit in double and of a float32 Horner evaluation.
Developer tool (needs numpy); the build and the tests do not run it.
"""
import math

import numpy as np

DEG = 12
xs = np.linspace(1.0, 4.0, 40001)
g = np.array([math.erfc(x) * math.exp(x * x) for x in xs])
u = (xs - 2.5) / 1.5
p = np.polynomial.chebyshev.cheb2poly(np.polynomial.chebyshev.chebfit(u, g, DEG))
print("coefficients:", ", ".join("%.9ef" % v for v in p))
rel64 = np.max(np.abs(np.polynomial.polynomial.polyval(u, p) - g) / g)
pf, uf = p.astype(np.float32), u.astype(np.float32)
acc = np.full_like(uf, pf[-1])
for k in range(DEG - 1, -1, -1):
    acc = (acc * uf + pf[k]).astype(np.float32)
print("max relative error: %.2e in double, %.2e in float32" % (rel64, np.max(np.abs(acc - g) / g)))
