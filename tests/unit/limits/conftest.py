"""The fake clock every limits test starts from (`tests.support.clock.START`)."""

from __future__ import annotations

import pytest

from tests.support.clock import START, FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)
