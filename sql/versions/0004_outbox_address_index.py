"""Index the outbox by address: the once-a-day receipt rule looks up each batch's senders

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_outbox_address", "outbox", ["address", "purpose"])


def downgrade() -> None:
    op.drop_index("ix_outbox_address", table_name="outbox")
