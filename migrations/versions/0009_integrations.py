"""Integrations: webhooks (endpoints, the durable delivery queue, attempts); imported
comments' source ids; reader settings and erasures;
reply e-mail notifications.

Revision ID: 0009_integrations
Revises: 0004_review
Create Date: 2026-12-02 13:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from server.db import JSONType, UTCDateTime

revision: str = "0009_integrations"
down_revision: str | None = "0008_moderation_quality"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _webhooks() -> None:
    op.create_table(
        "webhooks",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("events", JSONType, nullable=False),
        sa.Column("secret", sa.String(length=100), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhooks")),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("webhook_id", BigId, nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("subject_user_id", sa.String(length=128), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempt_count", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=True),
        sa.Column("replay_of", BigId, nullable=True),
        sa.Column("last_error", sa.String(length=1000), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("delivered_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'delivered', 'dead')",
            name=op.f("ck_webhook_deliveries_status"),
        ),
        sa.ForeignKeyConstraint(
            ["webhook_id"], ["webhooks.id"],
            name=op.f("fk_webhook_deliveries_webhook_id_webhooks"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
    )
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_webhook_deliveries_due", ["status", "next_attempt_at", "id"], unique=False
        )
        batch_op.create_index("ix_webhook_deliveries_webhook", ["webhook_id", "id"], unique=False)
        batch_op.create_index("ix_webhook_deliveries_subject", ["subject_user_id"], unique=False)
    op.create_table(
        "webhook_attempts",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("delivery_id", BigId, nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("attempted_at", UTCDateTime(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(length=1000), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["delivery_id"], ["webhook_deliveries.id"],
            name=op.f("fk_webhook_attempts_delivery_id_webhook_deliveries"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_attempts")),
    )
    with op.batch_alter_table("webhook_attempts", schema=None) as batch_op:
        batch_op.create_index("ix_webhook_attempts_delivery", ["delivery_id", "id"], unique=False)


def _imports() -> None:
    op.create_table(
        "imported_comments",
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("source_id", sa.String(length=200), nullable=False),
        sa.Column("comment_id", BigId, nullable=False),
        sa.Column("imported_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["comment_id"], ["comments.id"],
            name=op.f("fk_imported_comments_comment_id_comments"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("source", "source_id", name=op.f("pk_imported_comments")),
    )
    with op.batch_alter_table("imported_comments", schema=None) as batch_op:
        batch_op.create_index("ix_imported_comments_comment", ["comment_id"], unique=False)


def _readers() -> None:
    op.create_table(
        "reader_settings",
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("reply_emails", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"],
            name=op.f("fk_reader_settings_user_id_users"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_reader_settings")),
    )
    op.create_table(
        "erasures",
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("actor_id", sa.String(length=128), nullable=False),
        sa.Column("erased_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_erasures")),
    )
    with op.batch_alter_table("erasures", schema=None) as batch_op:
        batch_op.create_index("ix_erasures_erased_at", ["erased_at"], unique=False)


def _notifications() -> None:
    op.create_table(
        "reply_notifications",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("comment_id", BigId, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"],
            name=op.f("fk_reply_notifications_user_id_users"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["comment_id"], ["comments.id"],
            name=op.f("fk_reply_notifications_comment_id_comments"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reply_notifications")),
    )
    with op.batch_alter_table("reply_notifications", schema=None) as batch_op:
        batch_op.create_index(
            "ix_reply_notifications_unsent", ["sent_at", "user_id", "created_at"], unique=False
        )


def upgrade() -> None:
    _webhooks()
    _imports()
    _readers()
    _notifications()


def downgrade() -> None:
    op.drop_table("reply_notifications")
    op.drop_table("erasures")
    op.drop_table("reader_settings")
    op.drop_table("imported_comments")
    op.drop_table("webhook_attempts")
    op.drop_table("webhook_deliveries")
    op.drop_table("webhooks")
