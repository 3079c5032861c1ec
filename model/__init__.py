"""orgscale model: review and integration of N teams under a topology (Mesa 3.5)."""

from model.metrics import METRICS
from model.model import SERIES_COLUMNS, OrgModel
from model.params import PARAMETERS, defaults, describe, mmc_parameters, validate_params
from model.topologies import TOPOLOGIES, build_topology

__all__ = [
    "METRICS",
    "PARAMETERS",
    "SERIES_COLUMNS",
    "TOPOLOGIES",
    "OrgModel",
    "build_topology",
    "defaults",
    "describe",
    "mmc_parameters",
    "validate_params",
]
