"""How long a request waited in a queue (queue mode), in milliseconds; NULL when it never did.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column("requests", sa.Column("queued_ms", sa.Double()))


def downgrade() -> None:
    with op.batch_alter_table("requests") as batch:
        batch.drop_column("queued_ms")
