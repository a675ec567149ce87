from __future__ import annotations

from chain429.usage.rows import ATTEMPT_COLUMNS, REQUEST_COLUMNS, RowBuilder
from tests.support.usage_records import exhausted, served

# The sqlite3 driver binds these directly; any other type (a bool, an enum) sends it looking
# for an adapter for every value, the most expensive part of writing a row.
EXACT_TYPES = (int, float, str, type(None))


def test_rows_hold_only_values_the_driver_binds_directly() -> None:
    records = [
        served("r1", ttft_ms=12.5, fallen_from=("groq", "cerebras")),
        served("r2", client_closed=True),
        exhausted("r3"),
    ]
    requests, attempts = RowBuilder().build(records)
    assert len(requests) == 3 and len(attempts) == 3 + 1 + 2
    for row in requests + attempts:
        assert all(type(value) in EXACT_TYPES for value in row), row


def test_flags_become_zero_or_one_in_their_columns() -> None:
    requests, _ = RowBuilder().build(
        [served("streamed", ttft_ms=5.0), served("closed", client_closed=True)]
    )
    streamed, closed = (dict(zip(REQUEST_COLUMNS, row, strict=True)) for row in requests)
    assert (streamed["streamed"], streamed["client_closed"]) == (1, 0)
    assert (closed["streamed"], closed["client_closed"]) == (0, 1)


def test_attempt_rows_keep_their_order_and_outcome_names() -> None:
    _, attempts = RowBuilder().build([served("r", fallen_from=("groq",))])
    rows = [dict(zip(ATTEMPT_COLUMNS, row, strict=True)) for row in attempts]
    assert [(r["position"], r["provider_id"], r["outcome"]) for r in rows] == [
        (0, "groq", "rate_limited"),
        (1, "groq", "served"),
    ]


def test_the_time_a_request_waited_in_a_queue_has_its_column() -> None:
    requests, _ = RowBuilder().build([served("queued", queued_ms=61_000.0), served("r")])
    queued, at_once = (dict(zip(REQUEST_COLUMNS, row, strict=True)) for row in requests)
    assert (queued["queued_ms"], at_once["queued_ms"]) == (61_000.0, None)


def test_the_time_an_attempt_waited_for_a_probe_has_its_column() -> None:
    record = served("r", fallen_from=("groq",))
    waited = record.attempts[1]._replace(waited_ms=250.0)
    _, attempts = RowBuilder().build([record._replace(attempts=(record.attempts[0], waited))])
    rows = [dict(zip(ATTEMPT_COLUMNS, row, strict=True)) for row in attempts]
    assert [r["waited_ms"] for r in rows] == [None, 250.0]


def test_for_postgresql_names_are_clipped_to_their_columns_and_nul_is_replaced() -> None:
    long_name = "p" * 300
    record = served("r", provider=long_name, requested_model="gpt\x00x", fallen_from=("groq",))
    requests, attempts = RowBuilder(clip_names=True).build([record, served("plain")])
    clipped, plain = (dict(zip(REQUEST_COLUMNS, row, strict=True)) for row in requests)
    assert clipped["provider_id"] == "p" * 200 and clipped["requested_model"] == "gpt\ufffdx"
    (unclipped,), _ = RowBuilder().build([served("plain")])
    assert plain == dict(zip(REQUEST_COLUMNS, unclipped, strict=True))
    assert [dict(zip(ATTEMPT_COLUMNS, a, strict=True))["provider_id"] for a in attempts] == [
        "groq",
        "p" * 200,
        "groq",
    ]


def test_for_sqlite_nothing_is_clipped() -> None:
    (row,), _ = RowBuilder().build([served("r", provider="p" * 300)])
    assert dict(zip(REQUEST_COLUMNS, row, strict=True))["provider_id"] == "p" * 300
