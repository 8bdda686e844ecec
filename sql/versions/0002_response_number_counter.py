"""Response numbers from a counter on the round, so parallel batches never take the same number

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("next_number", sa.Integer(), nullable=False, server_default="1"))
    op.execute(
        "UPDATE rounds SET next_number = 1 + COALESCE("
        "(SELECT MAX(responses.number) FROM responses WHERE responses.round_id = rounds.id), 0)"
    )


def downgrade() -> None:
    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.drop_column("next_number")
