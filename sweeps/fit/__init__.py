"""Scaling-law fits: which law y(N) describes a metric measured at N teams, and how sure we are.

Pure functions on arrays (and one on a results DataFrame) returning small frozen dataclasses;
no file I/O (the ``orgscale fit`` command, :mod:`sweeps.commands.fit`, reads results and
writes ``fits.csv`` and ``fits.json``). Method, errors and both file formats:
``docs/fits.md``.

One job a module:

* :mod:`~sweeps.fit.summary` – per-N means, standard errors and fit weights (:func:`summarise`);
* :mod:`~sweeps.fit.laws` – the candidate laws fitted and compared by AICc (:func:`fit_laws`,
  :func:`akaike_weights`);
* :mod:`~sweeps.fit.exponent` – the power-law exponent and the local log–log slopes
  (:func:`power_exponent`, :func:`local_slopes`);
* :mod:`~sweeps.fit.scaling` – all three for one group (:func:`fit_scaling`);
* :mod:`~sweeps.fit.crossover` – where two groups' curves cross (:func:`find_crossover`);
* :mod:`~sweeps.fit.tables` – every group of a results table (:func:`fit_groups`) and its
  ``fits.csv`` rows and ``fits.json`` document (:func:`fits_frame`, :func:`fits_json`).
"""

from sweeps.fit.crossover import Crossover, find_crossover
from sweeps.fit.exponent import ExponentFit, LocalSlopes, local_slopes, power_exponent
from sweeps.fit.laws import (
    COST_LAWS,
    FIT_P_MIN,
    FORMULAS,
    LAWS,
    LOG_LAWS,
    PARAM_NAMES,
    PARSIMONY_DELTA,
    POWER_BRACKET,
    THROUGHPUT_LAWS,
    LawComparison,
    LawFit,
    akaike_weights,
    fit_laws,
)
from sweeps.fit.scaling import ScalingFit, fit_scaling
from sweeps.fit.summary import DEFAULT_LEVEL, DEFAULT_N_BOOT, MIN_DISTINCT_N, PerN, summarise
from sweeps.fit.tables import GroupFit, TableFit, fit_groups, fits_frame, fits_json

__all__ = [
    "COST_LAWS",
    "DEFAULT_LEVEL",
    "DEFAULT_N_BOOT",
    "FIT_P_MIN",
    "FORMULAS",
    "LAWS",
    "LOG_LAWS",
    "MIN_DISTINCT_N",
    "PARAM_NAMES",
    "PARSIMONY_DELTA",
    "POWER_BRACKET",
    "THROUGHPUT_LAWS",
    "Crossover",
    "ExponentFit",
    "GroupFit",
    "LawComparison",
    "LawFit",
    "LocalSlopes",
    "PerN",
    "ScalingFit",
    "TableFit",
    "akaike_weights",
    "find_crossover",
    "fit_groups",
    "fit_laws",
    "fit_scaling",
    "fits_frame",
    "fits_json",
    "local_slopes",
    "power_exponent",
    "summarise",
]
