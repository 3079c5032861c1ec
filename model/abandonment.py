"""Abandonment: authors give up on changes that wait too long.

Each change gets a patience drawn from an exponential distribution with mean
``patience_days`` (0 means authors never give up). A change still waiting for review,
rework, agreement or the gate when its patience runs out is abandoned: it leaves every
queue (lazily) and no longer counts as work in progress; for lead time it is a competing
outcome, not a censored landing (``lead_time_cif_p50``). A change already merged into its
home tree is past the author's hands and is never abandoned. Nova lost about a quarter of
its changes this way (4.4 of 17.2 a day in 2013), which is how its queue stayed finite
while demand exceeded review capacity.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from model.eventlog import ABANDONED

if TYPE_CHECKING:
    from model.work import Change


class AbandonmentMechanism:
    """Mixin for :class:`model.OrgModel`: patience per change, abandonment when it runs out."""

    def start_patience(self, change: Change) -> None:
        """Schedule the moment the author of ``change`` gives up (if it is still waiting);
        called only when ``patience_days`` > 0."""
        patience = self.random.expovariate(1.0 / self.patience_days)
        self.events.push(self.now + patience, self.give_up, change)

    def give_up(self, change: Change) -> None:
        """The author abandons ``change`` unless it already merged into its home tree."""
        if change.in_home_tree or change.abandoned:
            return
        self.abandon(change, change.author, "author")

    def abandon(self, change: Change, actor: int, detail: str) -> None:
        """``change`` leaves the system unmerged: given up by its author (``detail``
        "author") or rejected by reviewer ``actor`` ("rejected", :mod:`model.review`)."""
        change.abandoned = True
        change.ended_at = self.now
        if self.event_log is not None:
            self.event_log.append((self.now, ABANDONED, change.id, change.home, actor, detail))
        if self.code_is_coupled:
            self.close_change(self.teams[change.home], change)
        self.count_wip(-1)
        self.n_abandoned_all += 1
        rejected = detail == "rejected"
        change.rejected = rejected
        self.n_rejected_all += rejected
        if self.measuring:
            self.n_abandoned += 1
            self.n_rejected += rejected
