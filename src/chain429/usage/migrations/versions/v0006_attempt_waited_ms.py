"""How long an attempt waited for the answer of its entry's probes, in milliseconds; NULL when it
did not wait.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column("attempts", sa.Column("waited_ms", sa.Double()))


def downgrade() -> None:
    with op.batch_alter_table("attempts") as batch:
        batch.drop_column("waited_ms")
