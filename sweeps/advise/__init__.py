"""``orgscale advise``: how should one project organise its review?

Observe its history (:mod:`sweeps.advise.observed`), map it onto the model and calibrate
the behaviour parameters to it (:mod:`sweeps.advise.mapping`, :func:`sweeps.calibrate.calibrate`),
compare organisations for it over a horizon of growth (:mod:`sweeps.advise.organisations`,
:mod:`sweeps.advise.compare`) and write a report (:mod:`sweeps.advise.report`). The stages
and their files are in :mod:`sweeps.advise.pipeline`.
"""

from sweeps.advise.pipeline import AdviseError, Options, advise

__all__ = ["AdviseError", "Options", "advise"]
