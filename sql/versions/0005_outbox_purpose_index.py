"""Index the outbox by purpose: intake looks up our own threads (invitations, reminders,
extensions) for every batch and every bounce, and receipts (one per response) outnumber them

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_outbox_purpose", "outbox", ["purpose", "round_id"])


def downgrade() -> None:
    op.drop_index("ix_outbox_purpose", table_name="outbox")
