"""What kind of failure a usage database error is: the same words for SQLite and PostgreSQL."""

from __future__ import annotations

from enum import StrEnum


class Problem(StrEnum):
    """What kind of failure a database error is, for counting and telling the operator."""

    READ_ONLY = "read_only"
    LOCKED = "locked"
    """Another writer held the write lock for longer than `busy_timeout`."""
    FULL = "full"
    """The disk (or SQLite's `max_page_count`) has no room for the write."""
    ERROR = "error"
    UNAVAILABLE = "unavailable"
    """The database server cannot be reached, or hung up (PostgreSQL)."""
