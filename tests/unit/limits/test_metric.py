"""The vocabulary of limits: windows by length, limits by name, what a report says ran out."""

from __future__ import annotations

from chain429.limits.metric import LimitReport, Metric, MetricKind, Window, limit_name


def test_a_window_is_found_by_its_exact_length():
    assert Window.from_seconds(60) is Window.MINUTE
    assert Window.from_seconds(86_400) is Window.DAY
    assert Window.from_seconds(10) is Window.UNKNOWN


def test_limits_are_named_as_people_read_them():
    assert limit_name(MetricKind.TOKENS, Window.DAY) == "tokens per day"
    assert limit_name(MetricKind.TOKENS, Window.UNKNOWN) == "token limit"


def test_a_report_says_which_metrics_ran_out():
    empty = Metric(MetricKind.REQUESTS, Window.DAY, 10, 0, None)
    over = Metric(MetricKind.TOKENS, Window.MINUTE, 10, -3, None)
    left = Metric(MetricKind.TOKENS, Window.DAY, 10, 1, None)
    unknown = Metric(MetricKind.REQUESTS, Window.MINUTE, 10, None, None)
    report = LimitReport(metrics=(empty, over, left, unknown))
    assert report.exhausted() == (empty, over)
    assert not report.is_empty and LimitReport().is_empty


def test_a_report_read_on_the_wall_clock_is_moved_whole_onto_the_steady_timeline():
    metric = Metric(MetricKind.REQUESTS, Window.DAY, 100, 0, 1_000.0)
    unknown = Metric(MetricKind.TOKENS, Window.MINUTE, 10, 5, None)
    report = LimitReport(metrics=(metric, unknown), retry_at=2_000.0, reason="per-day quota")
    moved = report.shifted(-3600.0)
    assert [m.reset_at for m in moved.metrics] == [1_000.0 - 3600, None]
    assert (moved.retry_at, moved.reason) == (2_000.0 - 3600, "per-day quota")
    assert report.shifted(0.0) is report
    assert report.shifted(1e-7) is report, "float noise between the two clocks is no move"
    assert LimitReport().shifted(60.0) == LimitReport()
