"""One group fitted whole: the laws compared, the power-law exponent and the local slopes,
the two CIs from the same bootstrap resamples.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sweeps.fit.exponent import (
    ExponentFit,
    LocalSlopes,
    exponent_from_resamples,
    slopes_from_resamples,
)
from sweeps.fit.laws import LAWS, LawComparison, compare_laws
from sweeps.fit.summary import (
    DEFAULT_LEVEL,
    DEFAULT_N_BOOT,
    PerN,
    check_bootstrap,
    resample,
    summarise,
)


@dataclass(frozen=True)
class ScalingFit:
    """Everything fitted for one group: laws, exponent and local slopes.

    Attributes
    ----------
    group
        Name of the group (used in messages).
    per_n
        The replicates summarised at each N.
    laws, exponent, slopes
        The law comparison, the power-law exponent and the local log–log slopes.
    """

    group: str
    per_n: PerN
    laws: LawComparison
    exponent: ExponentFit
    slopes: LocalSlopes


def fit_scaling(
    n: Any,
    y: Any,
    *,
    rng: np.random.Generator | int | None = None,
    n_boot: int = DEFAULT_N_BOOT,
    level: float = DEFAULT_LEVEL,
    laws: Sequence[str] = LAWS,
    group: str = "data",
) -> ScalingFit:
    """Fit one group: compare the laws, estimate the exponent and the local slopes.

    The exponent CI and the local-slope CIs come from the same bootstrap resamples.

    Parameters
    ----------
    n, y
        Team count and metric of each observation.
    rng
        Generator (or seed) for the bootstrap.
    n_boot, level
        Bootstrap resamples (0: no CIs) and confidence level.
    laws
        Laws to compare; ``power`` is always fitted for the exponent.
    group
        Name used in error messages.

    Returns
    -------
    ScalingFit

    Raises
    ------
    ValueError
        On bad input, or a per-N mean <= 0 (the exponent is a log law).
    """
    check_bootstrap(n_boot, level)
    per_n = summarise(n, y, group=group)
    comparison = compare_laws(per_n, laws, group)
    power = (
        comparison["power"] if "power" in laws else compare_laws(per_n, ("power",), group).fits[0]
    )
    boot = resample(per_n, np.random.default_rng(rng), n_boot) if n_boot else None
    return ScalingFit(
        group=group,
        per_n=per_n,
        laws=comparison,
        exponent=exponent_from_resamples(per_n, power, boot, level),
        slopes=slopes_from_resamples(per_n, boot, level),
    )
