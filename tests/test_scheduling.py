"""The bound on Snakemake's self-wake-up timers (mlreview.scheduling)."""

import threading
import time

from mlreview import scheduling


class FakeScheduler:
    """What the replacement touches of Snakemake's JobScheduler: the semaphore its loop waits on."""

    def __init__(self):
        self._open_jobs = threading.Semaphore(0)

    def _schedule_reevalutation(self, delay):
        raise AssertionError("not replaced")


def test_at_most_one_wake_up_is_pending_and_each_wakes_the_scheduler():
    assert scheduling.bound_reevaluations(FakeScheduler)
    s = FakeScheduler()
    before = threading.active_count()
    for _ in range(50):  # fifty passes that each want a wake-up
        s._schedule_reevalutation(0.2)
    assert threading.active_count() <= before + 1
    timer = getattr(s, scheduling.PENDING)
    assert timer.daemon
    assert s._open_jobs.acquire(timeout=5)  # woken once...
    assert not s._open_jobs.acquire(timeout=0.5)  # ...and only once
    assert getattr(s, scheduling.PENDING) is None
    s._schedule_reevalutation(0.05)  # the pass it woke can ask for the next one
    assert s._open_jobs.acquire(timeout=5)


def test_a_wake_up_asked_for_while_one_is_pending_comes_within_the_delay():
    scheduling.bound_reevaluations(FakeScheduler)
    s = FakeScheduler()
    start = time.monotonic()
    s._schedule_reevalutation(0.3)
    time.sleep(0.1)
    s._schedule_reevalutation(0.3)  # served by the pending timer, earlier than asked, never later
    assert s._open_jobs.acquire(timeout=5)
    assert time.monotonic() - start < 0.3 + 0.25


def test_snakemakes_scheduler_is_patched_when_it_has_the_method():
    from snakemake.scheduling.job_scheduler import JobScheduler

    original = JobScheduler._schedule_reevalutation
    try:
        assert scheduling.bound_reevaluations()
        assert JobScheduler._schedule_reevalutation is scheduling._schedule_reevaluation
    finally:
        JobScheduler._schedule_reevalutation = original


def test_nothing_is_changed_without_the_method():
    class Other:
        pass

    assert not scheduling.bound_reevaluations(Other)
    assert not hasattr(Other, "_schedule_reevalutation")
