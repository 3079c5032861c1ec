"""The daily series the interactive view plots, collected cheaply.

Mesa's ``DataCollector.collect`` deep-copies every reported value, which costs more than a
day of events in a small run. The model reports plain numbers only (immutable), so
:class:`DailySeries` appends them directly; everything else (``model_vars``,
``get_model_vars_dataframe``) is Mesa's own.
"""

from __future__ import annotations

import mesa


class DailySeries(mesa.DataCollector):
    """A ``DataCollector`` of numeric model attributes, one row per ``collect`` call."""

    def __init__(self, columns: tuple[str, ...]) -> None:
        super().__init__(model_reporters={name: name for name in columns})
        self._columns = columns

    def collect(self, model: mesa.Model) -> None:
        """Append the current value of every column attribute of ``model``."""
        if hasattr(self, "_collection_steps"):
            self._collection_steps.append(model.time)
        model_vars = self.model_vars
        for name in self._columns:
            model_vars[name].append(getattr(model, name))
