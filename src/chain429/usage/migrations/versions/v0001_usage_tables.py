"""Usage tables: requests and their attempts.

Revision ID: 0001
Revises:
Create Date: 2026-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

_ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# BIGINT on PostgreSQL, as SQLite's INTEGER (the same DDL on SQLite: no database changes; no
# PostgreSQL database predates this).
_COUNT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "requests",
        sa.Column("id", _ROW_ID, primary_key=True, autoincrement=True),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("started_at", sa.Double(), nullable=False),
        sa.Column("endpoint", sa.String(64), nullable=False),
        sa.Column("chain", sa.String(200), nullable=False),
        sa.Column("requested_model", sa.String(200), nullable=False),
        sa.Column("provider_id", sa.String(200)),
        sa.Column("model", sa.String(200)),
        sa.Column("key_label", sa.String(32)),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("streamed", sa.Boolean(), nullable=False),
        sa.Column("attempt_count", sa.Integer(), nullable=False),
        sa.Column("prompt_tokens", _COUNT),
        sa.Column("completion_tokens", _COUNT),
        sa.Column("total_tokens", _COUNT),
        sa.Column("latency_ms", sa.Double(), nullable=False),
        sa.Column("ttft_ms", sa.Double()),
        sa.Column("error_class", sa.String(100)),
        sa.Column("client_closed", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_requests"),
    )
    op.create_index("ix_requests_started_at", "requests", ["started_at"])
    op.create_index("ix_requests_chain_started_at", "requests", ["chain", "started_at"])
    op.create_index("ix_requests_provider_id_started_at", "requests", ["provider_id", "started_at"])
    op.create_table(
        "attempts",
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("provider_id", sa.String(200), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("key_label", sa.String(32)),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("status", sa.Integer()),
        sa.Column("latency_ms", sa.Double(), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.PrimaryKeyConstraint("request_id", "position", name="pk_attempts"),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("attempts")
    op.drop_table("requests")
