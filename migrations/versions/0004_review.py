"""Review API: an index for the "reported" queue (published comments with open reports).

The other queues are served by indexes of 0001 (``ix_comments_status_risk`` for a queue by
risk or time, ``ix_comments_article_status`` and ``ix_comments_author_article`` for filters).

Revision ID: 0004_review
Revises: 0003_liveblog
Create Date: 2026-11-29 09:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_review"
down_revision: str | None = "0003_liveblog"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REPORTED = "status = 'approved' AND report_count > 0"


def upgrade() -> None:
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_comments_reported",
            ["risk", "id"],
            unique=False,
            postgresql_where=sa.text(REPORTED),
            sqlite_where=sa.text(REPORTED),
        )


def downgrade() -> None:
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_comments_reported",
            postgresql_where=sa.text(REPORTED),
            sqlite_where=sa.text(REPORTED),
        )
