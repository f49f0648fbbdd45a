"""Live-blog operations. Each opens its own unit of work; events are published after commit.

Writers lock the blog row first (``_lock_blog``), so every write to one blog is serialised and
its revision counter hands out positions and revisions in commit order.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.articles.service import get_or_create_article
from server.auth import Principal
from server.db import Sessionmaker, utcnow
from server.dialect import insert_for
from server.errors import Conflict, NotFound, Unprocessable
from server.live.base import ChannelBroker, EventType
from server.live.producers import liveblog_event, pages_changed
from server.liveblog.markdown import Renderer, normalise_markdown
from server.liveblog.models import (
    BlogStatus,
    LiveBlog,
    LiveBlogPost,
    LiveBlogPostRevision,
    PostAction,
    PostStatus,
)
from server.liveblog.schemas import (
    Cursor,
    editor_post,
    public_blog,
    public_post,
    public_revision,
)
from server.settings import Settings
from server.users.service import ensure_user


@functools.cache
def renderer() -> Renderer:
    """The process's renderer, built on first use (it is pure configuration, no I/O)."""
    return Renderer()


@dataclass(slots=True)
class Outbox:
    """Events of a unit of work, published in order once it has committed."""

    article_id: str
    events: list[tuple[EventType, dict[str, Any]]] = field(default_factory=list)

    def add(self, type: EventType, data: dict[str, Any]) -> None:
        self.events.append((type, data))

    async def flush(self, channels: ChannelBroker) -> None:
        for type, data in self.events:
            await liveblog_event(channels, article_id=self.article_id, type=type, data=data)
        if self.events:
            await pages_changed(channels, article_ids=[self.article_id], pages="liveblog")


def render_body(raw: str, settings: Settings) -> tuple[str, str]:
    """(normalised Markdown, sanitised HTML), or a 422 for an empty or oversized body."""
    body = normalise_markdown(raw)
    if not body:
        raise Unprocessable("body must not be empty", code="body_empty")
    if len(body) > settings.liveblog_body_max_chars:
        raise Unprocessable(
            f"body must be at most {settings.liveblog_body_max_chars} characters",
            code="body_too_long",
        )
    html = renderer().render(body)
    if not html:
        raise Unprocessable("body renders to nothing", code="body_empty")
    return body, html


# ---------------------------------------------------------------- the blog


def _blog_not_found() -> NotFound:
    return NotFound("this article has no live blog", code="liveblog_not_found")


async def _lock_blog(session: AsyncSession, article_id: str) -> LiveBlog:
    """The blog row, locked until commit. A no-op UPDATE rather than SELECT … FOR UPDATE:
    it row-locks on Postgres and, on SQLite (no row locks), takes the database write lock."""
    locked = await session.execute(
        update(LiveBlog)
        .where(LiveBlog.article_id == article_id)
        .values(revision=LiveBlog.revision)
        .execution_options(synchronize_session=False)
    )
    if not getattr(locked, "rowcount", 0):
        raise _blog_not_found()
    blog = (
        await session.execute(
            select(LiveBlog)
            .where(LiveBlog.article_id == article_id)
            .execution_options(populate_existing=True)
        )
    ).scalar_one()
    return blog


def _check_live(blog: LiveBlog) -> None:
    if blog.status == BlogStatus.ended:
        raise Conflict(
            "this live blog has ended; reopen it (status live) before posting",
            code="liveblog_ended",
        )


async def _create_blog(session: AsyncSession, article_id: str, principal: Principal) -> bool:
    await get_or_create_article(session, article_id)
    now = utcnow()
    stmt = insert_for(session, LiveBlog).values(
        article_id=article_id,
        status=BlogStatus.live.value,
        revision=0,
        created_by=principal.sub,
        created_at=now,
        updated_at=now,
    )
    result = await session.execute(stmt.on_conflict_do_nothing(index_elements=["article_id"]))
    return bool(getattr(result, "rowcount", 0))


def _apply_blog_changes(blog: LiveBlog, changes: dict[str, Any]) -> bool:
    changed = False
    if "title" in changes and changes["title"] != blog.title:
        blog.title = changes["title"]
        changed = True
    status = changes.get("status")
    if status is not None and status != blog.status:
        blog.status = status
        blog.ended_at = utcnow() if status == BlogStatus.ended else None
        changed = True
    return changed


async def put_blog(
    *,
    sessionmaker: Sessionmaker,
    channels: ChannelBroker,
    principal: Principal,
    article_id: str,
    changes: dict[str, Any],
) -> tuple[dict[str, Any], bool]:
    """Create the article's live blog or change its title/status; (blog, created).

    Any change, creation included, is announced as ``liveblog.status``."""
    async with sessionmaker.begin() as session:
        created = await _create_blog(session, article_id, principal)
        blog = await _lock_blog(session, article_id)
        # Blog before user, in every writer: one lock order, no deadlocks between them.
        await ensure_user(session, principal, utcnow())
        changed = _apply_blog_changes(blog, changes) or created
        if changed:
            blog.revision += 1
            blog.updated_at = utcnow()
        shown = public_blog(blog)
    if changed:
        await liveblog_event(
            channels, article_id=article_id, type=EventType.liveblog_status, data=shown
        )
        await pages_changed(channels, article_ids=[article_id], pages="liveblog")
    return shown, created


async def blog_revision(*, sessionmaker: Sessionmaker, article_id: str) -> int:
    """The blog's current revision (what its ETag is made of), or 404."""
    async with sessionmaker() as session:
        revision = await session.scalar(
            select(LiveBlog.revision).where(LiveBlog.article_id == article_id)
        )
    if revision is None:
        raise _blog_not_found()
    return int(revision)


# ---------------------------------------------------------------- writing entries


def _stamp(blog: LiveBlog, post: LiveBlogPost, *, public: bool = True) -> None:
    """Give the entry the blog's next revision: every change readers see gets a number of its
    own. Drafts are invisible, so changing one leaves the blog (and its ETags) as it was."""
    if public:
        blog.revision += 1
    post.revision = blog.revision
    post.updated_at = utcnow()


def _record(
    session: AsyncSession, post: LiveBlogPost, action: PostAction, principal: Principal
) -> None:
    session.add(
        LiveBlogPostRevision(
            post_id=post.id,
            action=action.value,
            actor_id=principal.sub,
            actor_name=principal.name,
            body=post.body,
            html=post.html,
            status=post.status,
            key_event=post.key_event,
            pinned=post.pinned,
            created_at=utcnow(),
        )
    )


async def _unpin_current(
    session: AsyncSession, blog: LiveBlog, principal: Principal, outbox: Outbox, keep: int | None
) -> None:
    """Unpin the blog's pinned entry (unless it is ``keep``): one pinned entry at a time."""
    current = (
        await session.execute(
            select(LiveBlogPost).where(
                LiveBlogPost.article_id == blog.article_id,
                LiveBlogPost.pinned.is_(True),
                LiveBlogPost.status == PostStatus.published.value,
            )
        )
    ).scalar_one_or_none()
    if current is None or current.id == keep:
        return
    current.pinned = False
    _stamp(blog, current)
    _record(session, current, PostAction.unpinned, principal)
    # Flushed now so the unique "one pinned entry" index never sees two.
    await session.flush()
    outbox.add(EventType.liveblog_post_updated, public_post(current))


async def _go_live(
    session: AsyncSession,
    blog: LiveBlog,
    post: LiveBlogPost,
    principal: Principal,
    outbox: Outbox,
) -> None:
    """Publish ``post`` (already in the session) at the top of the timeline."""
    _check_live(blog)
    if post.pinned:
        await _unpin_current(session, blog, principal, outbox, keep=post.id)
    _stamp(blog, post)
    post.status = PostStatus.published.value
    post.position = post.revision
    post.published_at = post.updated_at
    await session.flush()
    _record(session, post, PostAction.published, principal)
    outbox.add(EventType.liveblog_post_published, public_post(post))


async def create_post(
    *,
    sessionmaker: Sessionmaker,
    channels: ChannelBroker,
    settings: Settings,
    principal: Principal,
    article_id: str,
    body: str,
    key_event: bool,
    pinned: bool,
    draft: bool,
) -> dict[str, Any]:
    """Publish an entry, or save it as a draft any editor may publish later."""
    source, html = render_body(body, settings)
    outbox = Outbox(article_id)
    async with sessionmaker.begin() as session:
        blog = await _lock_blog(session, article_id)
        _check_live(blog)
        await ensure_user(session, principal, utcnow())
        post = LiveBlogPost(
            article_id=article_id,
            author_id=principal.sub,
            author_name=principal.name,
            body=source,
            html=html,
            status=PostStatus.draft.value,
            key_event=key_event,
            pinned=pinned,
            revision=0,
            created_at=utcnow(),
        )
        session.add(post)
        if draft:
            _stamp(blog, post, public=False)
            await session.flush()
            _record(session, post, PostAction.drafted, principal)
        else:
            await _go_live(session, blog, post, principal, outbox)
        shown = editor_post(post)
    await outbox.flush(channels)
    return shown


async def _lock_post(session: AsyncSession, post_id: int) -> tuple[LiveBlog, LiveBlogPost]:
    """The entry and its blog, the blog locked first (the order every writer follows)."""
    article_id = await session.scalar(
        select(LiveBlogPost.article_id).where(LiveBlogPost.id == post_id)
    )
    if article_id is None:
        raise NotFound("live-blog entry not found", code="post_not_found")
    blog = await _lock_blog(session, article_id)
    post = (
        await session.execute(
            select(LiveBlogPost)
            .where(LiveBlogPost.id == post_id)
            .execution_options(populate_existing=True)
        )
    ).scalar_one()
    if post.status == PostStatus.deleted:
        raise NotFound("live-blog entry not found", code="post_not_found")
    return blog, post


def _apply_post_changes(
    post: LiveBlogPost, changes: dict[str, Any], settings: Settings
) -> PostAction | None:
    """Apply an edit; the history action it amounts to, or None when nothing changed."""
    edited = False
    if "body" in changes:
        source, html = render_body(changes["body"], settings)
        edited = source != post.body
        post.body, post.html = source, html
    if "key_event" in changes and changes["key_event"] != post.key_event:
        post.key_event = changes["key_event"]
        edited = True
    pin_changed = "pinned" in changes and changes["pinned"] != post.pinned
    if pin_changed:
        post.pinned = changes["pinned"]
    if edited:
        return PostAction.edited
    if pin_changed:
        return PostAction.pinned if post.pinned else PostAction.unpinned
    return None


async def edit_post(
    *,
    sessionmaker: Sessionmaker,
    channels: ChannelBroker,
    settings: Settings,
    principal: Principal,
    post_id: int,
    changes: dict[str, Any],
) -> dict[str, Any]:
    """Correct an entry's body or flags; the previous version stays in its history."""
    async with sessionmaker.begin() as session:
        blog, post = await _lock_post(session, post_id)
        outbox = Outbox(blog.article_id)
        published = post.status == PostStatus.published
        if published and changes.get("pinned") and not post.pinned:
            await _unpin_current(session, blog, principal, outbox, keep=post.id)
        action = _apply_post_changes(post, changes, settings)
        if action is not None:
            await ensure_user(session, principal, utcnow())
            _stamp(blog, post, public=published)
            if action is PostAction.edited and published:
                post.edited_at = post.updated_at
            _record(session, post, action, principal)
            if published:
                outbox.add(EventType.liveblog_post_updated, public_post(post))
        shown = editor_post(post)
    await outbox.flush(channels)
    return shown


async def publish_post(
    *,
    sessionmaker: Sessionmaker,
    channels: ChannelBroker,
    principal: Principal,
    post_id: int,
) -> dict[str, Any]:
    """Publish a draft (any editor may): it goes to the top of the timeline, now."""
    async with sessionmaker.begin() as session:
        blog, post = await _lock_post(session, post_id)
        if post.status != PostStatus.draft:
            raise Conflict("this entry is already published", code="already_published")
        outbox = Outbox(blog.article_id)
        await ensure_user(session, principal, utcnow())
        await _go_live(session, blog, post, principal, outbox)
        shown = editor_post(post)
    await outbox.flush(channels)
    return shown


async def delete_post(
    *,
    sessionmaker: Sessionmaker,
    channels: ChannelBroker,
    principal: Principal,
    post_id: int,
) -> str:
    """Withdraw an entry (its article id returned). Readers get a tombstone; editors keep
    the text in its history."""
    async with sessionmaker.begin() as session:
        blog, post = await _lock_post(session, post_id)
        outbox = Outbox(blog.article_id)
        was_published = post.status == PostStatus.published
        await ensure_user(session, principal, utcnow())
        post.status = PostStatus.deleted.value
        post.pinned = False
        _stamp(blog, post, public=was_published)
        post.deleted_at = post.updated_at
        _record(session, post, PostAction.deleted, principal)
        if was_published:
            outbox.add(EventType.liveblog_post_deleted, public_post(post))
    await outbox.flush(channels)
    return outbox.article_id


# ---------------------------------------------------------------- reading


def _published(key_events: bool) -> list[Any]:
    conditions: list[Any] = [LiveBlogPost.status == PostStatus.published.value]
    if key_events:
        conditions.append(LiveBlogPost.key_event.is_(True))
    return conditions


async def _read_blog(session: AsyncSession, article_id: str) -> LiveBlog:
    blog = await session.get(LiveBlog, article_id)
    if blog is None:
        raise _blog_not_found()
    return blog


async def _pinned(session: AsyncSession, article_id: str, key_events: bool) -> LiveBlogPost | None:
    return (
        await session.execute(
            select(LiveBlogPost).where(
                LiveBlogPost.article_id == article_id,
                LiveBlogPost.pinned.is_(True),
                *_published(key_events),
            )
        )
    ).scalar_one_or_none()


async def timeline(
    *,
    sessionmaker: Sessionmaker,
    settings: Settings,
    article_id: str,
    cursor: str | None,
    limit: int | None,
    key_events: bool,
) -> dict[str, Any]:
    """Published entries newest first, keyed by position; the first page leads with the
    pinned entry (which also keeps its place in the timeline, so paging never skips it)."""
    listing = "key" if key_events else "all"
    position = Cursor.decode(cursor, listing) if cursor else None
    size = min(limit or settings.liveblog_page_size, settings.liveblog_max_page_size)
    after = [LiveBlogPost.position < position.p] if position else []
    async with sessionmaker() as session:
        blog = await _read_blog(session, article_id)
        rows = (
            (
                await session.execute(
                    select(LiveBlogPost)
                    .where(LiveBlogPost.article_id == article_id, *_published(key_events), *after)
                    .order_by(LiveBlogPost.position.desc())
                    .limit(size + 1)
                )
            )
            .scalars()
            .all()
        )
        pinned = None if position else await _pinned(session, article_id, key_events)
    page = rows[:size]
    more = len(rows) > size and bool(page)
    return {
        "liveblog": public_blog(blog),
        "pinned": public_post(pinned) if pinned else None,
        "items": [public_post(p) for p in page],
        "next_cursor": Cursor(s=listing, p=page[-1].position or 1).encode() if more else None,
    }


async def changes_since(
    *,
    sessionmaker: Sessionmaker,
    settings: Settings,
    article_id: str,
    since: int,
    limit: int | None,
) -> dict[str, Any]:
    """Entries published, edited or deleted after revision ``since``, oldest change first.

    Poll again with ``next_since``; ``more`` says another page of changes is waiting."""
    size = min(limit or settings.liveblog_max_page_size, settings.liveblog_max_page_size)
    async with sessionmaker() as session:
        # The blog first: any revision it reports committed before the changes are read.
        blog = await _read_blog(session, article_id)
        rows = (
            (
                await session.execute(
                    select(LiveBlogPost)
                    .where(
                        LiveBlogPost.article_id == article_id,
                        LiveBlogPost.revision > since,
                        or_(
                            LiveBlogPost.status == PostStatus.published.value,
                            LiveBlogPost.published_at.is_not(None),
                        ),
                    )
                    .order_by(LiveBlogPost.revision)
                    .limit(size + 1)
                )
            )
            .scalars()
            .all()
        )
    page = rows[:size]
    more = len(rows) > size
    last = page[-1].revision if page else 0
    return {
        "liveblog": public_blog(blog),
        "since": since,
        "changes": [public_post(p) for p in page],
        # A ``since`` ahead of the blog (a blog recreated, a client confused) starts over here.
        "next_since": last if more else max(last, blog.revision),
        "more": more,
    }


async def list_drafts(
    *,
    sessionmaker: Sessionmaker,
    settings: Settings,
    article_id: str,
    cursor: str | None,
    limit: int | None,
) -> dict[str, Any]:
    """Unpublished entries of a blog, newest first, for editors."""
    position = Cursor.decode(cursor, "drafts") if cursor else None
    size = min(limit or settings.liveblog_page_size, settings.liveblog_max_page_size)
    async with sessionmaker() as session:
        await _read_blog(session, article_id)
        rows = (
            (
                await session.execute(
                    select(LiveBlogPost)
                    .where(
                        LiveBlogPost.article_id == article_id,
                        LiveBlogPost.status == PostStatus.draft.value,
                        *([LiveBlogPost.id < position.p] if position else []),
                    )
                    .order_by(LiveBlogPost.id.desc())
                    .limit(size + 1)
                )
            )
            .scalars()
            .all()
        )
    page = rows[:size]
    more = len(rows) > size
    return {
        "items": [editor_post(p) for p in page],
        "next_cursor": Cursor(s="drafts", p=page[-1].id).encode() if more else None,
    }


async def post_history(*, sessionmaker: Sessionmaker, post_id: int) -> dict[str, Any]:
    """An entry as it stands (deleted ones too) and every change to it, oldest first."""
    async with sessionmaker() as session:
        post = await session.get(LiveBlogPost, post_id)
        if post is None:
            raise NotFound("live-blog entry not found", code="post_not_found")
        rows = (
            (
                await session.execute(
                    select(LiveBlogPostRevision)
                    .where(LiveBlogPostRevision.post_id == post_id)
                    .order_by(LiveBlogPostRevision.id)
                )
            )
            .scalars()
            .all()
        )
    return {"post": editor_post(post), "history": [public_revision(r) for r in rows]}


__all__ = [
    "blog_revision",
    "changes_since",
    "create_post",
    "delete_post",
    "edit_post",
    "list_drafts",
    "post_history",
    "publish_post",
    "put_blog",
    "timeline",
]
