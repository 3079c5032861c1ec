"""Abandonment: authors give up on changes that wait too long.

Each change gets a patience drawn from an exponential distribution with mean
``patience_days`` (0 means authors never give up). A change still waiting for review,
rework, agreement or the gate when its patience runs out is abandoned: it leaves every
queue (lazily) and no longer counts as work in progress; for lead time it is a competing
outcome, not a censored landing (``lead_time_cif_p50``). A change already merged into its
home tree is past the author's hands and is never abandoned. Nova lost about a quarter of
its changes this way (4.4 of 17.2 a day in 2013), which is how its queue stayed finite
while demand exceeded review capacity.

A review's rejection (a −2, :mod:`model.review`) abandons a change the same way and is
counted here too, apart from authors giving up.

State. :class:`Abandonment` (held by :class:`model.OrgModel` as ``model.abandonment``)
owns the counts of abandoned and rejected changes. It reads the model's clock (``now``),
random stream, event queue and event log, takes the change out of its tree's open
changes (``model.coupling``) and out of the work in progress (``model.count_wip``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from model.eventlog import ABANDONED

if TYPE_CHECKING:
    from model.model import OrgModel
    from model.work import Change


class Abandonment:
    """Patience per change, abandonment when it runs out (see the module docstring).

    Parameters
    ----------
    model : the :class:`model.OrgModel` whose clock, random stream, event queue, event
        log, ``coupling`` and ``count_wip`` it uses.
    patience_days : mean patience of an author (days, exponential); 0: never gives up.
    warmup_days : changes abandoned from then on are counted as measured (days).
    """

    def __init__(self, model: OrgModel, *, patience_days: float, warmup_days: float) -> None:
        self.model = model
        self.patience_days = patience_days
        self.warmup_days = warmup_days
        self.n_abandoned_all = 0  # whole run, rejected changes included
        self.n_rejected_all = 0  # whole run: abandoned because a review rejected them
        self.n_abandoned = 0  # after warm-up, rejected changes included
        self.n_rejected = 0  # after warm-up

    def start_patience(self, change: Change) -> None:
        """Schedule the moment the author of ``change`` gives up (if it is still waiting);
        called only when ``patience_days`` > 0."""
        model = self.model
        patience = model.random.expovariate(1.0 / self.patience_days)
        model.events.push(model.now + patience, self.give_up, change)

    def give_up(self, change: Change) -> None:
        """The author abandons ``change`` unless it already merged into its home tree."""
        if change.in_home_tree or change.abandoned:
            return
        self.abandon(change, change.author, "author")

    def abandon(self, change: Change, actor: int, detail: str) -> None:
        """``change`` leaves the system unmerged: given up by its author (``detail``
        "author") or rejected by reviewer ``actor`` ("rejected", :mod:`model.review`)."""
        model = self.model
        now = model.now
        change.abandoned = True
        change.ended_at = now
        if model.event_log is not None:
            model.event_log.append((now, ABANDONED, change.id, change.home, actor, detail))
        if model.coupling.is_coupled:
            model.coupling.close_change(change)
        model.count_wip(-1)
        self.n_abandoned_all += 1
        rejected = detail == "rejected"
        change.rejected = rejected
        self.n_rejected_all += rejected
        if now >= self.warmup_days:
            self.n_abandoned += 1
            self.n_rejected += rejected
