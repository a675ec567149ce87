"""Drop the per-chain and per-provider request indexes: every insert paid for them.

Each secondary index is one more B-tree insert per request row on the proxy's busiest write.
The statistics read time ranges (`started_at` keeps its index) and aggregate what they find;
the request log's chain or provider filters scan that range instead.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.drop_index("ix_requests_chain_started_at", table_name="requests")
    op.drop_index("ix_requests_provider_id_started_at", table_name="requests")


def downgrade() -> None:
    op.create_index("ix_requests_provider_id_started_at", "requests", ["provider_id", "started_at"])
    op.create_index("ix_requests_chain_started_at", "requests", ["chain", "started_at"])
