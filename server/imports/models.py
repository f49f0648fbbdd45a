from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, PrimaryKeyConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, BigId, UTCDateTime, utcnow


class ImportedComment(Base):
    """Which source comment became which comment: what makes a second import add nothing."""

    __tablename__ = "imported_comments"
    __table_args__ = (
        PrimaryKeyConstraint("source", "source_id"),
        Index("ix_imported_comments_comment", "comment_id"),
    )

    source: Mapped[str] = mapped_column(String(16))
    source_id: Mapped[str] = mapped_column(String(200))
    comment_id: Mapped[int] = mapped_column(BigId, ForeignKey("comments.id", ondelete="CASCADE"))
    imported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
