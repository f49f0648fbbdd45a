from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import CheckConstraint, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, UTCDateTime, utcnow


class CommentsState(enum.StrEnum):
    open = "open"
    closed = "closed"


class ModerationMode(enum.StrEnum):
    post = "post"
    pre = "pre"


class Article(Base):
    """An article of the host site, keyed by the host's own id; created on first sight."""

    __tablename__ = "articles"
    __table_args__ = (
        CheckConstraint("comments IN ('open', 'closed')", name="comments"),
        CheckConstraint("moderation IN ('post', 'pre')", name="moderation"),
    )

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    title: Mapped[str | None] = mapped_column(String(500))
    url: Mapped[str | None] = mapped_column(String(2000))
    comments: Mapped[str] = mapped_column(String(8), default=CommentsState.open.value)
    moderation: Mapped[str] = mapped_column(String(8), default=ModerationMode.post.value)
    closes_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Approved (public) comments, kept exact by lifecycle.transitions.
    comment_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    def is_open(self, now: dt.datetime) -> bool:
        if self.comments != CommentsState.open.value:
            return False
        return self.closes_at is None or now < self.closes_at
