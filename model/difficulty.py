"""Per-change difficulty: trivial fixes and hard changes in the same queue.

Mechanism. Each contributor's change draws a difficulty ``d`` when it is submitted,
lognormal with mean 1 and log-scale standard deviation ``difficulty_sigma`` (0, the
default: every change alike, ``d = 1`` and no random draw). A change of difficulty ``d``
fails the automated checks, and is asked for rework by a review, as if it were ``d``
independent pieces of work of difficulty 1 each failing with the base probability:

    p(d) = 1 − (1 − p)^d

so ``p(1) = p``, an easy change (``d`` near 0) almost always passes and a hard one
(``d`` ≫ 1) almost always needs another round. A team's own API change (:mod:`model.links`)
keeps ``d = 1``. Review times, rework times and rejection do not depend on ``d``.

Claim it stands for. In one quarter of OpenStack Nova's history a quarter of the changes
landed within hours of being written while a tenth took months: one rework probability for
every change cannot give both. Difficulty spreads the number of rounds a change needs
without changing the rules any team follows; it is calibrated, not assumed
(``model/presets/nova-trajectory.toml``).

Assumptions. The spread is lognormal and independent of the author, the area and the team;
because p(d) is concave in ``d``, a spread lowers the mean probability of rework a little
for the same base ``p`` (calibration absorbs it).

State. :class:`Difficulty` holds the spread and the model's random stream; the draw is
stored on the change (``Change.difficulty``), which carries it through every patch set.
"""

from __future__ import annotations

import math
from random import Random


def odds(prob: float, difficulty: float) -> float:
    """Probability that ``difficulty`` independent units of work, each failing with
    ``prob``, fail at least once: ``1 − (1 − prob)^difficulty``."""
    if difficulty == 1.0:
        return prob
    return 1.0 - (1.0 - prob) ** difficulty


class Difficulty:
    """Draws each change's difficulty (see the module docstring).

    Parameters
    ----------
    sigma : ``difficulty_sigma``, log-scale standard deviation of the lognormal
        difficulty (dimensionless, ≥ 0; 0: every change has difficulty 1).
    random : the model's random stream (:attr:`mesa.Model.random`).
    """

    def __init__(self, sigma: float, random: Random) -> None:
        if not (sigma >= 0 and math.isfinite(sigma)):
            raise ValueError(f"difficulty_sigma={sigma!r} is invalid: must be a number ≥ 0")
        self.sigma = sigma
        self.varies = sigma > 0
        self.random = random
        # lognormal with mean 1: mu = −σ²/2
        self._mu = -sigma * sigma / 2

    def draw(self) -> float:
        """A new change's difficulty (mean 1; exactly 1 when ``sigma`` is 0, no draw)."""
        if not self.varies:
            return 1.0
        return self.random.lognormvariate(self._mu, self.sigma)
