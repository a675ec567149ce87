"""The status table: what an upstream status means for the request and the entry."""

from __future__ import annotations

import pytest

from chain429.outcome import RULES, Outcome
from chain429.router.classify import classify_status


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, Outcome.SERVED),
        (201, Outcome.SERVED),
        (299, Outcome.SERVED),
        (429, Outcome.RATE_LIMITED),
        (402, Outcome.PAYMENT_REQUIRED),
        (401, Outcome.AUTH_FAILED),
        (403, Outcome.AUTH_FAILED),
        (404, Outcome.NOT_FOUND),
        (408, Outcome.SERVER_ERROR),
        (500, Outcome.SERVER_ERROR),
        (502, Outcome.SERVER_ERROR),
        (503, Outcome.SERVER_ERROR),
        (504, Outcome.SERVER_ERROR),
        (529, Outcome.SERVER_ERROR),
        (599, Outcome.SERVER_ERROR),
        (400, Outcome.REJECTED),
        (405, Outcome.REJECTED),
        (409, Outcome.REJECTED),
        (413, Outcome.REJECTED),
        (415, Outcome.REJECTED),
        (422, Outcome.REJECTED),
        (451, Outcome.REJECTED),
        (499, Outcome.REJECTED),
        (100, Outcome.BAD_RESPONSE),
        (204 + 100, Outcome.BAD_RESPONSE),
        (399, Outcome.BAD_RESPONSE),
    ],
)
def test_status_table(status, outcome):
    assert classify_status(status) is outcome


def test_every_failure_walks_on_and_only_failures_do():
    for status in range(100, 600):
        outcome = classify_status(status)
        assert RULES[outcome].walk_on == (not 200 <= status < 300)
