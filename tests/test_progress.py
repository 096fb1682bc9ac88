import logging

from mlreview.progress import Progress, duration


def test_progress_logs_the_share_done_and_the_time_left(caplog):
    now = [0.0]
    progress = Progress(total=4, what="fits", log=logging.getLogger("test"), clock=lambda: now[0])
    with caplog.at_level(logging.INFO):
        now[0] = 10.0
        progress.advance("first")
        now[0] = 30.0
        progress.advance("the next two", amount=2)
        now[0] = 40.0
        progress.advance("last")
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0] == "fits [25%]: first (10 s so far, about 30 s left)"
    assert lines[1] == "fits [75%]: the next two (30 s so far, about 10 s left)"
    assert lines[2] == "fits [100%]: last (40 s so far, done)"


def test_duration():
    assert [duration(s) for s in (5, 120, 7200)] == ["5 s", "2.0 min", "2.0 h"]
