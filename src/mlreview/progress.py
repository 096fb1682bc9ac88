"""Progress of a long step in its log: one line per piece of work done, with the time it has taken
and about how long is left (a linear extrapolation of the work done so far).

    progress = Progress(total=len(lambdas), what="Fig 21 fits", log=log)
    for lam in lambdas:
        ...
        progress.advance(f"lambda = {lam:g}: test accuracy {acc:.3f}")

A step's log is the job's log (the CLI sends the standard ``logging`` there), so ``tail -f
results/logs/<rule>/<job>.log`` shows where a running step is.
"""

from __future__ import annotations

import logging
import time


def duration(seconds: float) -> str:
    """``42 s``, ``3.5 min``, ``1.2 h``."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


class Progress:
    """Counts work done out of ``total`` (fits, trees, events: any additive unit) and logs each step."""

    def __init__(self, total: float, what: str, log: logging.Logger, clock=time.perf_counter):
        self.total, self.what, self.log, self.clock = float(total), what, log, clock
        self.done = 0.0
        self.start = clock()

    def left(self) -> float | None:
        """Seconds left at the rate so far (None before any work is done)."""
        if self.done <= 0:
            return None
        return (self.clock() - self.start) / self.done * max(self.total - self.done, 0.0)

    def advance(self, message: str, amount: float = 1.0) -> None:
        self.done += float(amount)
        elapsed = self.clock() - self.start
        left = self.left()
        tail = "done" if self.done >= self.total else f"about {duration(left)} left"
        share = 100.0 * self.done / self.total if self.total else 100.0
        self.log.info("%s [%.0f%%]: %s (%s so far, %s)", self.what, share, message, duration(elapsed), tail)
