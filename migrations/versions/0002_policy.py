"""Moderation policy: the versioned policy config row and the banned/suspect word lists.

Revision ID: 0002_policy
Revises: 0001_foundation
Create Date: 2026-11-29 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from server.db import UTCDateTime

revision: str = "0002_policy"
down_revision: str | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSONType = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "moderation_policy",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("config", JSONType, nullable=False),
        sa.Column("updated_by", sa.String(length=128), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_moderation_policy_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_moderation_policy")),
    )
    op.create_table(
        "moderation_wordlists",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("words", JSONType, nullable=False),
        sa.Column("updated_by", sa.String(length=128), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('banned', 'suspect')", name=op.f("ck_moderation_wordlists_kind")
        ),
        sa.PrimaryKeyConstraint("kind", name=op.f("pk_moderation_wordlists")),
    )


def downgrade() -> None:
    op.drop_table("moderation_wordlists")
    op.drop_table("moderation_policy")
