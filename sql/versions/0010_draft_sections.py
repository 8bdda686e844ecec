"""The draft's sections, read when a round is opened, and where each remark was placed

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "draft_sections",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("round_id", sa.String(length=80), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("page", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["round_id"], ["rounds.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("round_id", "position", name="uq_draft_sections_position"),
    )
    op.create_index("ix_draft_sections_round_id", "draft_sections", ["round_id"])
    op.create_table(
        "remark_placements",
        sa.Column("round_id", sa.String(length=80), nullable=False),
        sa.Column("remark_number", sa.String(length=32), nullable=False),
        sa.Column("section_position", sa.Integer(), nullable=True),
        sa.Column("basis", sa.String(length=16), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["round_id"], ["rounds.id"]),
        sa.PrimaryKeyConstraint("round_id", "remark_number"),
    )


def downgrade() -> None:
    op.drop_table("remark_placements")
    op.drop_index("ix_draft_sections_round_id", table_name="draft_sections")
    op.drop_table("draft_sections")
