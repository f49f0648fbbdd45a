from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, BigId, JSONType, UTCDateTime, utcnow


class CommentStatus(enum.StrEnum):
    pending = "pending"
    approved = "approved"
    held = "held"
    rejected = "rejected"
    deleted = "deleted"


class ReactionKind(enum.StrEnum):
    like = "like"
    respect = "respect"
    insightful = "insightful"
    funny = "funny"
    sad = "sad"
    angry = "angry"


class ReportReason(enum.StrEnum):
    abuse = "abuse"
    spam = "spam"
    off_topic = "off_topic"
    hate = "hate"
    harassment = "harassment"
    misinformation = "misinformation"
    other = "other"


class Comment(Base):
    __tablename__ = "comments"
    __table_args__ = (
        CheckConstraint(
            "status IN ('pending', 'approved', 'held', 'rejected', 'deleted')", name="status"
        ),
        UniqueConstraint("author_id", "idempotency_key", name="uq_comments_author_idempotency"),
        # A thread page is an index range scan over the article's visible top-level comments.
        Index(
            "ix_comments_thread",
            "article_id",
            "id",
            postgresql_where=text("parent_id IS NULL AND visible"),
            sqlite_where=text("parent_id IS NULL AND visible"),
        ),
        Index(
            "ix_comments_thread_top",
            "article_id",
            "reaction_count",
            "id",
            postgresql_where=text("parent_id IS NULL AND visible"),
            sqlite_where=text("parent_id IS NULL AND visible"),
        ),
        Index(
            "ix_comments_replies",
            "parent_id",
            "id",
            postgresql_where=text("visible"),
            sqlite_where=text("visible"),
        ),
        Index("ix_comments_author_article", "author_id", "article_id", "status"),
        Index("ix_comments_status_risk", "status", "risk", "id"),
        Index("ix_comments_status_updated", "status", "updated_at"),
        Index("ix_comments_article_status", "article_id", "status"),
        # The moderators' "reported" queue: published comments with reports nobody handled.
        Index(
            "ix_comments_reported",
            "risk",
            "id",
            postgresql_where=text("status = 'approved' AND report_count > 0"),
            sqlite_where=text("status = 'approved' AND report_count > 0"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    article_id: Mapped[str] = mapped_column(
        String(128), ForeignKey("articles.id", ondelete="CASCADE")
    )
    parent_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("comments.id", ondelete="CASCADE")
    )
    root_id: Mapped[int | None] = mapped_column(BigId)
    depth: Mapped[int] = mapped_column(Integer, default=0)
    author_id: Mapped[str] = mapped_column(String(128), ForeignKey("users.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=CommentStatus.pending.value)
    # Shown to everyone: approved, or deleted by its author after being published.
    visible: Mapped[bool] = mapped_column(Boolean, default=False)
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    featured: Mapped[bool] = mapped_column(Boolean, default=False)
    scores: Mapped[dict[str, float] | None] = mapped_column(JSONType)
    risk: Mapped[float | None] = mapped_column(Float)
    model: Mapped[str | None] = mapped_column(String(200))
    decision_reason: Mapped[str | None] = mapped_column(String(500))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    reaction_count: Mapped[int] = mapped_column(Integer, default=0)
    reactions: Mapped[dict[str, int]] = mapped_column(JSONType, default=dict)
    reply_count: Mapped[int] = mapped_column(Integer, default=0)
    report_count: Mapped[int] = mapped_column(Integer, default=0)
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    edited_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Moderation quality (0008): the detected language (ISO 639-1, None when unsure), a keyed
    # hash of the poster's address for burst counting (never the address itself), and the
    # nudge state: None, "offered" (held for toxicity, author told) or "revised" (used).
    language: Mapped[str | None] = mapped_column(String(16))
    ip_hash: Mapped[str | None] = mapped_column(String(32))
    nudge: Mapped[str | None] = mapped_column(String(16))

    @property
    def thread_root(self) -> int:
        return self.root_id if self.root_id is not None else self.id

    def as_dict(self) -> dict[str, Any]:  # pragma: no cover - debugging aid
        return {c.name: getattr(self, c.name) for c in self.__table__.columns}


class Reaction(Base):
    __tablename__ = "reactions"
    __table_args__ = (PrimaryKeyConstraint("comment_id", "user_id", "kind"),)

    comment_id: Mapped[int] = mapped_column(BigId, ForeignKey("comments.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(128), ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Report(Base):
    __tablename__ = "reports"
    __table_args__ = (
        UniqueConstraint("comment_id", "user_id", name="uq_reports_comment_user"),
        Index("ix_reports_comment", "comment_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    comment_id: Mapped[int] = mapped_column(BigId, ForeignKey("comments.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(128), ForeignKey("users.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(String(1000))
    resolved: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
