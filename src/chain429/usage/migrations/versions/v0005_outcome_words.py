"""Attempt outcomes (and the error class of requests that failed with one) are words.

`429`, `402`, `5xx`, `auth` and `connect` become `rate_limited`, `payment_required`,
`server_error`, `auth_failed` and `connect_error`, the names the code and the docs use.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None

RENAMED = {
    "429": "rate_limited",
    "402": "payment_required",
    "5xx": "server_error",
    "auth": "auth_failed",
    "connect": "connect_error",
}
_COLUMNS = (("attempts", "outcome"), ("requests", "error_class"))


def _rename(pairs: dict[str, str]) -> None:
    for table, column in _COLUMNS:
        target = sa.table(table, sa.column(column, sa.String()))
        for old, new in pairs.items():
            op.execute(target.update().where(target.c[column] == old).values({column: new}))


def upgrade() -> None:
    _rename(RENAMED)


def downgrade() -> None:
    _rename({new: old for old, new in RENAMED.items()})
