"""Live blog: a blog per article, its entries and the append-only history of each entry.

Revision ID: 0003_liveblog
Revises: 0002_policy
Create Date: 2026-11-29 08:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from server.db import UTCDateTime

revision: str = "0003_liveblog"
down_revision: str | None = "0002_policy"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "liveblogs",
        sa.Column("article_id", sa.String(length=128), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=True),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint("status IN ('live', 'ended')", name=op.f("ck_liveblogs_status")),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"],
            name=op.f("fk_liveblogs_article_id_articles"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("article_id", name=op.f("pk_liveblogs")),
    )
    op.create_table(
        "liveblog_posts",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("article_id", sa.String(length=128), nullable=False),
        sa.Column("author_id", sa.String(length=128), nullable=False),
        sa.Column("author_name", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("key_event", sa.Boolean(), nullable=False),
        sa.Column("pinned", sa.Boolean(), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=True),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("published_at", UTCDateTime(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("edited_at", UTCDateTime(), nullable=True),
        sa.Column("deleted_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint(
            "status IN ('draft', 'published', 'deleted')", name=op.f("ck_liveblog_posts_status")
        ),
        sa.ForeignKeyConstraint(
            ["article_id"], ["liveblogs.article_id"],
            name=op.f("fk_liveblog_posts_article_id_liveblogs"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"],
            name=op.f("fk_liveblog_posts_author_id_users"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_liveblog_posts")),
    )
    published = sa.text("status = 'published'")
    with op.batch_alter_table("liveblog_posts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_liveblog_posts_timeline", ["article_id", "position"], unique=False,
            postgresql_where=published, sqlite_where=published,
        )
        batch_op.create_index(
            "ix_liveblog_posts_changes", ["article_id", "revision"], unique=False
        )
        batch_op.create_index(
            "uq_liveblog_posts_pinned", ["article_id"], unique=True,
            postgresql_where=sa.text("pinned AND status = 'published'"),
            sqlite_where=sa.text("pinned AND status = 'published'"),
        )
        batch_op.create_index(
            "ix_liveblog_posts_drafts", ["article_id", "id"], unique=False,
            postgresql_where=sa.text("status = 'draft'"),
            sqlite_where=sa.text("status = 'draft'"),
        )
    op.create_table(
        "liveblog_post_revisions",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("post_id", BigId, nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.String(length=128), nullable=False),
        sa.Column("actor_name", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("key_event", sa.Boolean(), nullable=False),
        sa.Column("pinned", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "action IN ('drafted', 'published', 'edited', 'pinned', 'unpinned', 'deleted')",
            name=op.f("ck_liveblog_post_revisions_action"),
        ),
        sa.ForeignKeyConstraint(
            ["post_id"], ["liveblog_posts.id"],
            name=op.f("fk_liveblog_post_revisions_post_id_liveblog_posts"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_liveblog_post_revisions")),
    )
    with op.batch_alter_table("liveblog_post_revisions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_liveblog_post_revisions_post", ["post_id", "id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("liveblog_post_revisions")
    op.drop_table("liveblog_posts")
    op.drop_table("liveblogs")
