"""Moderation quality: each comment's language, a hash of its poster's address, its nudge state.

Revision ID: 0008_moderation_quality
Revises: 0004_review
Create Date: 2026-12-02 13:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_moderation_quality"
down_revision: str | None = "0005_lifecycle"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("ip_hash", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("nudge", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.drop_column("nudge")
        batch_op.drop_column("ip_hash")
        batch_op.drop_column("language")
