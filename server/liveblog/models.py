"""A live blog per article, its entries, and the append-only log of every change to an entry.

``LiveBlog.revision`` is the blog's change counter. Every write locks the blog row, bumps it
and stamps the rows it touches, so revisions (and entry positions) become visible strictly in
commit order: readers can page by position and poll by revision without gaps or duplicates.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, BigId, UTCDateTime, utcnow


class BlogStatus(enum.StrEnum):
    live = "live"
    ended = "ended"


class PostStatus(enum.StrEnum):
    draft = "draft"
    published = "published"
    deleted = "deleted"


class PostAction(enum.StrEnum):
    drafted = "drafted"
    published = "published"
    edited = "edited"
    pinned = "pinned"
    unpinned = "unpinned"
    deleted = "deleted"


class LiveBlog(Base):
    __tablename__ = "liveblogs"
    __table_args__ = (CheckConstraint("status IN ('live', 'ended')", name="status"),)

    article_id: Mapped[str] = mapped_column(
        String(128), ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    title: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(8), default=BlogStatus.live.value)
    revision: Mapped[int] = mapped_column(BigInteger, default=0)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class LiveBlogPost(Base):
    __tablename__ = "liveblog_posts"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'published', 'deleted')", name="status"),
        # The first page: published entries of a blog, newest position first.
        Index(
            "ix_liveblog_posts_timeline",
            "article_id",
            "position",
            postgresql_where=text("status = 'published'"),
            sqlite_where=text("status = 'published'"),
        ),
        # Polling: what changed in a blog after a revision.
        Index("ix_liveblog_posts_changes", "article_id", "revision"),
        # One pinned entry per blog, enforced by the database as well as the service.
        Index(
            "uq_liveblog_posts_pinned",
            "article_id",
            unique=True,
            postgresql_where=text("pinned AND status = 'published'"),
            sqlite_where=text("pinned AND status = 'published'"),
        ),
        Index("ix_liveblog_posts_drafts", "article_id", "id",
              postgresql_where=text("status = 'draft'"), sqlite_where=text("status = 'draft'")),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    article_id: Mapped[str] = mapped_column(
        String(128), ForeignKey("liveblogs.article_id", ondelete="CASCADE")
    )
    author_id: Mapped[str] = mapped_column(String(128), ForeignKey("users.id", ondelete="CASCADE"))
    # The byline as it was when the entry was written, like a printed one.
    author_name: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=PostStatus.draft.value)
    key_event: Mapped[bool] = mapped_column(Boolean, default=False)
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    # Blog revision at publication: the timeline's order and its cursor. Null while a draft.
    position: Mapped[int | None] = mapped_column(BigInteger)
    # Blog revision of the entry's latest change, for ``since`` polling.
    revision: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    edited_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    deleted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class LiveBlogPostRevision(Base):
    """One change to an entry, with the entry as it stood afterwards. Rows are only inserted."""

    __tablename__ = "liveblog_post_revisions"
    __table_args__ = (
        CheckConstraint(
            "action IN ('drafted', 'published', 'edited', 'pinned', 'unpinned', 'deleted')",
            name="action",
        ),
        Index("ix_liveblog_post_revisions_post", "post_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    post_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("liveblog_posts.id", ondelete="CASCADE")
    )
    action: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str] = mapped_column(String(128))
    actor_name: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    key_event: Mapped[bool] = mapped_column(Boolean)
    pinned: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
