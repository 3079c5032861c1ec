"""Cost per event of the single-core review queue in ``OrgModel`` against two baselines.

The same M/M/c queue (``n_sources`` Poisson arrival streams of total rate ``lam`` per day,
``c`` reviewers, exponential reviews at ``mu`` per day, FIFO) is simulated three ways:

* ``heapq``   – a bare ``heapq`` loop: the least any Python simulation of it can cost;
* ``mesa``    – a minimal model on Mesa 3.5's own ``schedule_event`` (one agent per source
  and per server, bound-method callbacks), what a Mesa user would write;
* ``orgscale``– ``OrgModel`` in its single-core M/M/c configuration (its own event core,
  the review, cost and lead-time accounts it always keeps, and one daily tick).

Each candidate's events are counted (``orgscale``: in a separate untimed run, see
``common.count_model_events``) and its mean wait before review is checked against
Erlang C, so the candidates are seen to simulate the same queue. Times are the best of
``--repeats`` interleaved runs; the ratios of time per event are the result.
Target: orgscale ≤ 10× the bare heapq loop.

Reads nothing, writes nothing. Usage:
``python benchmarks/bench_queue.py [--lam 9.6] [--mu 4] [--c 3] [--days 20000] [--repeats 3]``
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import math
import random
from collections import deque

import mesa
from common import best_of, count_model_events, load_average, machine, table, verdict

from model import OrgModel, mmc_parameters

TARGET_OVERHEAD = 10.0  # orgscale time per event ≤ 10 × bare heapq


def erlang_c_wait(lam: float, mu: float, c: int) -> float:
    """Mean wait before service in an M/M/c queue (days), Erlang C formula."""
    a = lam / mu
    if a >= c:
        return math.inf
    top = a**c / math.factorial(c) * c / (c - a)
    bottom = sum(a**k / math.factorial(k) for k in range(c)) + top
    return top / bottom / (c * mu - lam)


# ---------------------------------------------------------------------- candidate 1: heapq
def run_heapq(
    lam: float, mu: float, c: int, n_sources: int, days: float, warmup: float, seed: int
) -> tuple[int, float]:
    """A bare heapq M/M/c: returns (events executed, mean wait before service after warm-up)."""
    rand = random.Random(seed)
    expo = rand.expovariate
    rate = lam / n_sources
    heap: list[tuple[float, int, int]] = []
    seq = itertools.count()
    push, pop = heapq.heappush, heapq.heappop
    for _ in range(n_sources):
        push(heap, (expo(rate), next(seq), 0))
    waiting: deque[float] = deque()
    idle = c
    n_events = 0
    wait_sum, n_waits = 0.0, 0
    while heap and heap[0][0] <= days:
        now, _, kind = pop(heap)
        n_events += 1
        if kind == 0:  # arrival: next arrival of this stream, then serve or queue
            push(heap, (now + expo(rate), next(seq), 0))
            if idle:
                idle -= 1
                if now >= warmup:
                    n_waits += 1
                push(heap, (now + expo(mu), next(seq), 1))
            else:
                waiting.append(now)
        elif waiting:  # departure with a queue: the server starts the next review
            arrived = waiting.popleft()
            if now >= warmup:
                wait_sum += now - arrived
                n_waits += 1
            push(heap, (now + expo(mu), next(seq), 1))
        else:
            idle += 1
    return n_events, wait_sum / n_waits if n_waits else math.nan


# ---------------------------------------------------------------------- candidate 2: Mesa
class MesaSource(mesa.Agent):
    """One Poisson arrival stream; Mesa callbacks take no argument, so each stream is an agent."""

    def __init__(self, model: MesaQueue, rate: float) -> None:
        super().__init__(model)
        self.rate = rate
        model.schedule_event(self.arrive, after=model.random.expovariate(rate))

    def arrive(self) -> None:
        model = self.model
        model.n_events += 1
        model.receive(model.time)
        model.schedule_event(self.arrive, after=model.random.expovariate(self.rate))


class MesaServer(mesa.Agent):
    """One reviewer: serves one request at a time."""

    def start(self, arrived: float) -> None:
        model = self.model
        if model.time >= model.warmup:
            model.wait_sum += model.time - arrived
            model.n_waits += 1
        model.schedule_event(self.finish, after=model.random.expovariate(model.mu))

    def finish(self) -> None:
        model = self.model
        model.n_events += 1
        if model.waiting:
            self.start(model.waiting.popleft())
        else:
            model.idle.append(self)


class MesaQueue(mesa.Model):
    """A minimal M/M/c on Mesa's ``schedule_event`` (the default step schedule stopped)."""

    def __init__(
        self, lam: float, mu: float, c: int, n_sources: int, warmup: float, rng: int
    ) -> None:
        super().__init__(rng=rng)
        self._default_schedule.stop()
        self.mu = mu
        self.warmup = warmup
        self.waiting: deque[float] = deque()
        self.n_events = 0
        self.wait_sum, self.n_waits = 0.0, 0
        self.idle = deque(MesaServer(self) for _ in range(c))
        self.sources = [MesaSource(self, lam / n_sources) for _ in range(n_sources)]

    def receive(self, now: float) -> None:
        if self.idle:
            self.idle.popleft().start(now)
        else:
            self.waiting.append(now)


def run_mesa(
    lam: float, mu: float, c: int, n_sources: int, days: float, warmup: float, seed: int
) -> tuple[int, float]:
    """Mesa's event list: returns (events executed, mean wait before service after warm-up)."""
    queue = MesaQueue(lam, mu, c, n_sources, warmup, seed)
    queue.run_for(days)
    return queue.n_events, queue.wait_sum / queue.n_waits if queue.n_waits else math.nan


# ---------------------------------------------------------------------- candidate 3: OrgModel
def build_orgscale(lam: float, mu: float, c: int, n_sources: int, warmup: float, seed: int):
    """``OrgModel`` as one M/M/c review queue (:func:`model.mmc_parameters`)."""
    params = mmc_parameters(lam, mu, c, sources=n_sources)
    return OrgModel(**params, warmup_days=warmup, rng=seed)


def run_orgscale(
    lam: float, mu: float, c: int, n_sources: int, days: float, warmup: float, seed: int
) -> float:
    """Run ``OrgModel`` for ``days``; returns its mean wait before the first review."""
    org = build_orgscale(lam, mu, c, n_sources, warmup, seed)
    org.run_for(days)
    return org.metrics()["review_wait_mean"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lam", type=float, default=9.6, help="arrivals per day (default 9.6)")
    parser.add_argument("--mu", type=float, default=4.0, help="reviews per reviewer per day")
    parser.add_argument("--c", type=int, default=3, help="reviewers (default 3)")
    parser.add_argument("--sources", type=int, default=12, help="arrival streams (default 12)")
    parser.add_argument("--days", type=float, default=20_000.0, help="simulated days")
    parser.add_argument("--warmup", type=float, default=60.0, help="warm-up days (not measured)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per candidate")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    q = (args.lam, args.mu, args.c, args.sources, args.days, args.warmup, args.seed)

    print(f"machine: {machine()}; load average {load_average()}")
    rho = args.lam / (args.c * args.mu)
    wq = erlang_c_wait(args.lam, args.mu, args.c)
    print(
        f"M/M/{args.c}: lam={args.lam:g}/day from {args.sources} streams, mu={args.mu:g}/day, "
        f"rho={rho:.2f}, {args.days:g} days; Erlang C mean wait {wq:.4f} days"
    )

    events_heapq, wait_heapq = run_heapq(*q)
    events_mesa, wait_mesa = run_mesa(*q)
    wait_org = run_orgscale(*q)
    events_org = count_model_events(
        lambda: build_orgscale(args.lam, args.mu, args.c, args.sources, args.warmup, args.seed),
        args.days,
    )
    best = best_of(
        {
            "heapq": lambda: run_heapq(*q),
            "mesa": lambda: run_mesa(*q),
            "orgscale": lambda: run_orgscale(*q),
        },
        args.repeats,
    )
    events = {"heapq": events_heapq, "mesa": events_mesa, "orgscale": events_org}
    waits = {"heapq": wait_heapq, "mesa": wait_mesa, "orgscale": wait_org}
    per_event = {name: best[name] / events[name] for name in best}
    rows = [
        (
            name,
            events[name],
            best[name],
            events[name] / best[name],
            per_event[name] * 1e6,
            per_event[name] / per_event["heapq"],
            waits[name],
            waits[name] / wq,
        )
        for name in best
    ]
    print()
    print(
        table(
            [
                "candidate",
                "events",
                "best s",
                "events/s",
                "µs/event",
                "× heapq",
                "mean wait (d)",
                "÷ Erlang C",
            ],
            rows,
        )
    )
    overhead = per_event["orgscale"] / per_event["heapq"]
    print()
    print(
        f"orgscale / heapq time per event: {overhead:.2f}× (target ≤ {TARGET_OVERHEAD:g}×) "
        f"{verdict(overhead, TARGET_OVERHEAD, at_most=True)}"
    )
    print(f"mesa / heapq time per event:     {per_event['mesa'] / per_event['heapq']:.2f}×")
    print(f"orgscale / mesa time per event:  {per_event['orgscale'] / per_event['mesa']:.2f}×")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
