"""Snakemake's scheduler wakes itself up once a second for every job it has started: a bound.

With its default rate limit (``--max-jobs-per-timespan 100/1s``) Snakemake's ``JobScheduler`` ends
every pass over the waiting jobs by starting a ``threading.Timer`` that wakes it up again one
timespan later (``_schedule_reevalutation``), so that jobs held back by the rate limit are
submitted. A pass runs after each timer and after each finished job, and every pass that finds
jobs waiting starts a new timer: the timers are never replaced, they add up, one more chain per
job event while the queue is not empty. After n jobs the scheduler runs about n passes a second,
each starting a thread and selecting jobs; in a paper-scale run it measured 0.1 CPU-s per second
of Snakemake's own process after 40 jobs, and 31,700 threads started in its first 16 minutes
(benchmarks/README.md). :func:`bound_reevaluations` keeps at most one timer pending: a pass that
wants a wake-up while one is pending is woken by it (at most one timespan later, as before), and
the timer clears itself before it wakes the scheduler, so the pass it wakes can start the next
one. The timers are daemon threads, so that a finished run does not wait for the last one.

Called by the Snakefile; imports only the standard library (and Snakemake, where it runs)."""

from __future__ import annotations

import threading

#: the attribute of a scheduler that holds its pending timer
PENDING = "_mlreview_pending_reevaluation"


def _schedule_reevaluation(self, delay: float) -> None:
    """Wake the scheduler up after ``delay`` seconds, unless a wake-up is already pending."""
    if getattr(self, PENDING, None) is not None:
        return

    def wake() -> None:
        setattr(self, PENDING, None)  # first: the pass this wakes may start the next timer
        self._open_jobs.release()

    timer = threading.Timer(delay, wake)
    timer.daemon = True
    setattr(self, PENDING, timer)
    timer.start()


def bound_reevaluations(scheduler_class=None) -> bool:
    """Replace ``JobScheduler._schedule_reevalutation`` (sic, Snakemake's name) by
    :func:`_schedule_reevaluation`; returns False, changing nothing, when this Snakemake has no
    such method (a version that schedules otherwise)."""
    if scheduler_class is None:
        from snakemake.scheduling.job_scheduler import JobScheduler as scheduler_class
    if not callable(getattr(scheduler_class, "_schedule_reevalutation", None)):
        return False
    scheduler_class._schedule_reevalutation = _schedule_reevaluation
    return True
