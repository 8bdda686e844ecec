"""A response can be held: kept and listed for review, not counted until staff decide

Mail from our own address without our loop header, and a receipt time before the round opened
or in the future, are held (issue 17, points 4 and 8).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("responses") as batch:
        batch.add_column(sa.Column("held", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("responses") as batch:
        batch.drop_column("held")
