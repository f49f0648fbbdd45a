"""Foundation: articles, users, comments, reactions, reports and the audit log.

Revision ID: 0001_foundation
Revises:
Create Date: 2026-11-29 08:42:42.606088
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from server.db import UTCDateTime

revision: str = "0001_foundation"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "articles",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=True),
        sa.Column("url", sa.String(length=2000), nullable=True),
        sa.Column("comments", sa.String(length=8), nullable=False),
        sa.Column("moderation", sa.String(length=8), nullable=False),
        sa.Column("closes_at", UTCDateTime(), nullable=True),
        sa.Column("comment_count", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "comments IN ('open', 'closed')", name=op.f("ck_articles_comments")
        ),
        sa.CheckConstraint(
            "moderation IN ('post', 'pre')", name=op.f("ck_articles_moderation")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_articles")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("suspended_until", UTCDateTime(), nullable=True),
        sa.Column("status_reason", sa.String(length=500), nullable=True),
        sa.Column("approved_count", sa.Integer(), nullable=False),
        sa.Column("rejected_count", sa.Integer(), nullable=False),
        sa.Column("reported_count", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "status IN ('active', 'premod', 'suspended', 'banned')",
            name=op.f("ck_users_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
    )
    op.create_table(
        "comments",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("article_id", sa.String(length=128), nullable=False),
        sa.Column(
            "parent_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column(
            "root_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.String(length=128), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("visible", sa.Boolean(), nullable=False),
        sa.Column("published_at", UTCDateTime(), nullable=True),
        sa.Column("featured", sa.Boolean(), nullable=False),
        sa.Column(
            "scores",
            sa.JSON().with_variant(
                postgresql.JSONB(astext_type=sa.Text()), "postgresql"
            ),
            nullable=True,
        ),
        sa.Column("risk", sa.Float(), nullable=True),
        sa.Column("model", sa.String(length=200), nullable=True),
        sa.Column("decision_reason", sa.String(length=500), nullable=True),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("reaction_count", sa.Integer(), nullable=False),
        sa.Column(
            "reactions",
            sa.JSON().with_variant(
                postgresql.JSONB(astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column("reply_count", sa.Integer(), nullable=False),
        sa.Column("report_count", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("edited_at", UTCDateTime(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'held', 'rejected', 'deleted')",
            name=op.f("ck_comments_status"),
        ),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name=op.f("fk_comments_article_id_articles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
            name=op.f("fk_comments_author_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["comments.id"],
            name=op.f("fk_comments_parent_id_comments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comments")),
        sa.UniqueConstraint(
            "author_id", "idempotency_key", name="uq_comments_author_idempotency"
        ),
    )
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_comments_article_status", ["article_id", "status"], unique=False
        )
        batch_op.create_index(
            "ix_comments_author_article",
            ["author_id", "article_id", "status"],
            unique=False,
        )
        batch_op.create_index(
            "ix_comments_replies",
            ["parent_id", "id"],
            unique=False,
            postgresql_where=sa.text("visible"),
            sqlite_where=sa.text("visible"),
        )
        batch_op.create_index(
            "ix_comments_status_risk", ["status", "risk", "id"], unique=False
        )
        batch_op.create_index(
            "ix_comments_status_updated", ["status", "updated_at"], unique=False
        )
        batch_op.create_index(
            "ix_comments_thread",
            ["article_id", "id"],
            unique=False,
            postgresql_where=sa.text("parent_id IS NULL AND visible"),
            sqlite_where=sa.text("parent_id IS NULL AND visible"),
        )
        batch_op.create_index(
            "ix_comments_thread_top",
            ["article_id", "reaction_count", "id"],
            unique=False,
            postgresql_where=sa.text("parent_id IS NULL AND visible"),
            sqlite_where=sa.text("parent_id IS NULL AND visible"),
        )

    op.create_table(
        "moderation_actions",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("actor_id", sa.String(length=128), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column(
            "comment_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("subject_user_id", sa.String(length=128), nullable=True),
        sa.Column("before", sa.String(length=64), nullable=True),
        sa.Column("after", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.String(length=1000), nullable=True),
        sa.Column(
            "details",
            sa.JSON().with_variant(
                postgresql.JSONB(astext_type=sa.Text()), "postgresql"
            ),
            nullable=True,
        ),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["comment_id"],
            ["comments.id"],
            name=op.f("fk_moderation_actions_comment_id_comments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_moderation_actions")),
    )
    with op.batch_alter_table("moderation_actions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_moderation_actions_comment", ["comment_id", "id"], unique=False
        )
        batch_op.create_index(
            "ix_moderation_actions_created", ["created_at"], unique=False
        )
        batch_op.create_index(
            "ix_moderation_actions_subject", ["subject_user_id", "id"], unique=False
        )

    op.create_table(
        "reactions",
        sa.Column(
            "comment_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["comment_id"],
            ["comments.id"],
            name=op.f("fk_reactions_comment_id_comments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_reactions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "comment_id", "user_id", "kind", name=op.f("pk_reactions")
        ),
    )
    op.create_table(
        "reports",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "comment_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("note", sa.String(length=1000), nullable=True),
        sa.Column("resolved", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["comment_id"],
            ["comments.id"],
            name=op.f("fk_reports_comment_id_comments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_reports_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reports")),
        sa.UniqueConstraint("comment_id", "user_id", name="uq_reports_comment_user"),
    )
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.create_index("ix_reports_comment", ["comment_id", "id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_index("ix_reports_comment")

    op.drop_table("reports")
    op.drop_table("reactions")
    with op.batch_alter_table("moderation_actions", schema=None) as batch_op:
        batch_op.drop_index("ix_moderation_actions_subject")
        batch_op.drop_index("ix_moderation_actions_created")
        batch_op.drop_index("ix_moderation_actions_comment")

    op.drop_table("moderation_actions")
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_comments_thread_top",
            postgresql_where=sa.text("parent_id IS NULL AND visible"),
            sqlite_where=sa.text("parent_id IS NULL AND visible"),
        )
        batch_op.drop_index(
            "ix_comments_thread",
            postgresql_where=sa.text("parent_id IS NULL AND visible"),
            sqlite_where=sa.text("parent_id IS NULL AND visible"),
        )
        batch_op.drop_index("ix_comments_status_updated")
        batch_op.drop_index("ix_comments_status_risk")
        batch_op.drop_index(
            "ix_comments_replies",
            postgresql_where=sa.text("visible"),
            sqlite_where=sa.text("visible"),
        )
        batch_op.drop_index("ix_comments_author_article")
        batch_op.drop_index("ix_comments_article_status")

    op.drop_table("comments")
    op.drop_table("users")
    op.drop_table("articles")
