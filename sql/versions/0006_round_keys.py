"""The round file's note layout, KLE number and facet, and retention on the round; a party's
``person`` flag

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Rounds opened before these keys existed get the defaults the round file gives when silent.
    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("note_layout", sa.String(16), nullable=False, server_default="by_party")
        )
        batch_op.add_column(sa.Column("kle", sa.String(16), nullable=True))
        batch_op.add_column(sa.Column("facet", sa.String(8), nullable=True))
        batch_op.add_column(sa.Column("retention", sa.String(32), nullable=False, server_default="P5Y"))
    with op.batch_alter_table("parties", schema=None) as batch_op:
        batch_op.add_column(sa.Column("person", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    # Plain ALTER TABLE … DROP COLUMN (SQLite 3.35+, PostgreSQL): a batch copy of "rounds" would drop
    # the table that parties, responses and the outbox point at, which SQLite's foreign keys refuse.
    op.drop_column("parties", "person")
    for column in ("retention", "facet", "kle", "note_layout"):
        op.drop_column("rounds", column)
