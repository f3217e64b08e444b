"""How verify compares a stored value with its re-derived twin: one rule for every artifact."""

from __future__ import annotations

import math
from typing import Any

# Stored and re-derived floats agree when they differ by at most this fraction of the larger
# magnitude: h, the p-values and the CI bounds go through the platform's libm, which may
# round the last bits differently. Zero has no relative neighbourhood, so 0.0 matches only
# 0.0 (no absolute tolerance): the zeros here (the difference and the h of two equal rates)
# come from identical operands and are exact on every IEEE 754 machine. Integers, strings,
# booleans and verdicts must match exactly, type included (True is not 1).
FLOAT_REL_TOL = 1e-12


def same_value(stored: Any, derived: Any) -> bool:
    if type(stored) is float and type(derived) is float:
        if math.isnan(stored) and math.isnan(derived):
            return True
        return math.isclose(stored, derived, rel_tol=FLOAT_REL_TOL, abs_tol=0.0)
    return type(stored) is type(derived) and bool(stored == derived)
