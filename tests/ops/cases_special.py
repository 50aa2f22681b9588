"""Cases for rill.ops.special_ops (Bessel, Dawson, Ei, Fresnel, Spence, igamma, betainc,
zeta).

The kernels need SciPy (the extra ``rill[scipy]``), except BesselI0 / BesselI0e which fall
back to NumPy; without SciPy the others raise UnimplementedError and their cases skip.
"""

import numpy as np

from tests.ops.cases import OPTIONAL_DEPENDENCY, case, pos, rnd

for _p in (
    "BesselI1", "BesselI1e", "BesselJ0", "BesselJ1", "BesselK0", "BesselK0e", "BesselK1",
    "BesselK1e", "BesselY0", "BesselY1", "Dawsn", "Expint", "FresnelCos", "FresnelSin",
    "Spence", "Igamma", "Igammac", "IgammaGradA", "Betainc", "Zeta",
):  # fmt: skip
    OPTIONAL_DEPENDENCY[_p] = "scipy.special"

# kinks: I0e / I1e have |x|, so keep away from 0; K and Y live on x > 0
_signed = np.array([[-2.5, -0.7, 0.4], [0.9, 1.8, 3.3]])
for _p in ("BesselI0", "BesselI1", "BesselJ0", "BesselJ1", "Dawsn", "FresnelCos", "FresnelSin"):
    case(_p, rnd(3, 4) * 3)
for _p in ("BesselI0e", "BesselI1e"):
    case(_p, _signed)
for _p in ("BesselK0", "BesselK0e", "BesselK1", "BesselK1e", "BesselY0", "BesselY1", "Expint"):
    case(_p, pos(3, 4) * 2)
case("Spence", pos(3, 4))
case("BesselJ0", rnd(5).astype(np.float32), grad=False)
case("BesselI0", rnd(5).astype(np.float16), grad=False)

case("Igamma", pos(3, 4) * 2, pos(3, 4) * 2)
case("Igamma", pos(3, 1) * 2, pos(4) * 2)
case("Igammac", pos(3, 4) * 2, pos(3, 4) * 2)
case("IgammaGradA", pos(2, 3), pos(2, 3), grad=False)
case("Betainc", pos(3, 4), pos(3, 4), np.random.default_rng(1).uniform(0.1, 0.9, (3, 4)), wrt=(2,))
case("Zeta", pos(3, 4) + 1.5, pos(3, 4), wrt=(1,))
case("Zeta", pos(3, 1) + 1.5, pos(4), wrt=(1,))
