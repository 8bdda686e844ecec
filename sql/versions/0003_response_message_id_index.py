"""Index responses by Message-ID: duplicate detection looks them up for every batch

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_responses_message_id", "responses", ["message_id"])


def downgrade() -> None:
    op.drop_index("ix_responses_message_id", table_name="responses")
