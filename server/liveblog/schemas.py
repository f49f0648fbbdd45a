"""Request payloads, query parameters, the timeline cursor and the public JSON of an entry."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.json_schema import SkipJsonSchema

from server.cursors import decode_cursor, encode_cursor, foreign_cursor
from server.db import iso_time
from server.http import NON_BLANK, Payload
from server.liveblog.models import (
    BlogStatus,
    LiveBlog,
    LiveBlogPost,
    LiveBlogPostRevision,
    PostStatus,
)


class BlogUpdate(Payload):
    """``PUT /articles/{id}/liveblog``: creates the blog, or changes its title or status."""

    title: str | None = Field(default=None, max_length=500)
    status: BlogStatus | None = None

    model_config = Payload.model_config | {"strict": False}


class PostCreate(Payload):
    body: str = Field(max_length=200_000, json_schema_extra={"pattern": NON_BLANK})
    key_event: bool = False
    pinned: bool = False
    draft: bool = False


class PreviewBody(Payload):
    body: str = Field(max_length=200_000, json_schema_extra={"pattern": NON_BLANK})


class PreviewOut(BaseModel):
    """A post body as it would be stored and shown to readers."""

    model_config = ConfigDict(frozen=True)

    body: str
    html: str


class PostUpdate(Payload):
    """Fields left out keep their value; none may be null (the schema says so)."""

    model_config = Payload.model_config | {"json_schema_extra": {"minProperties": 1}}

    body: (
        Annotated[str, Field(max_length=200_000, json_schema_extra={"pattern": NON_BLANK})]
        | SkipJsonSchema[None]
    ) = None
    key_event: bool | SkipJsonSchema[None] = None
    pinned: bool | SkipJsonSchema[None] = None

    @model_validator(mode="after")
    def _something(self) -> PostUpdate:
        if not self.model_fields_set:
            raise ValueError("give at least one of body, key_event, pinned")
        for name in self.model_fields_set:
            if getattr(self, name) is None:
                raise ValueError(f"{name} must not be null")
        return self


class TimelineQuery(BaseModel):
    """``GET /articles/{id}/liveblog``: a page of the timeline, or the changes after ``since``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cursor: str | None = Field(default=None, max_length=200)
    limit: int | None = Field(default=None, ge=1, le=1000)
    key_events: bool = False
    since: int | None = Field(default=None, ge=0, le=2**62)

    @model_validator(mode="after")
    def _one_mode(self) -> TimelineQuery:
        if self.since is not None and (self.cursor is not None or self.key_events):
            raise ValueError(
                "since returns every change (filter them by key_event); "
                "it cannot be combined with cursor or key_events"
            )
        return self


class PageQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    cursor: str | None = Field(default=None, max_length=200)
    limit: int | None = Field(default=None, ge=1, le=1000)


class Cursor(BaseModel):
    """Where a page ended: the listing it belongs to and the last entry's position."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    s: str
    p: int = Field(gt=0, le=2**62)

    def encode(self) -> str:
        return encode_cursor(self)

    @classmethod
    def decode(cls, token: str, listing: str) -> Cursor:
        cursor = decode_cursor(cls, token)
        if cursor.s != listing:
            raise foreign_cursor()
        return cursor



def public_blog(blog: LiveBlog) -> dict[str, Any]:
    return {
        "article_id": blog.article_id,
        "title": blog.title,
        "status": blog.status,
        "revision": blog.revision,
        "created_at": iso_time(blog.created_at),
        "updated_at": iso_time(blog.updated_at),
        "ended_at": iso_time(blog.ended_at),
    }


def public_post(post: LiveBlogPost) -> dict[str, Any]:
    """An entry as readers (and the live events) show it; a deleted one is a bare tombstone."""
    if post.status == PostStatus.deleted:
        return {
            "id": post.id,
            "article_id": post.article_id,
            "status": post.status,
            "deleted": True,
            "revision": post.revision,
            "deleted_at": iso_time(post.deleted_at),
        }
    return {
        "id": post.id,
        "article_id": post.article_id,
        "status": post.status,
        "author": {"id": post.author_id, "name": post.author_name},
        "body": post.body,
        "html": post.html,
        "key_event": post.key_event,
        "pinned": post.pinned,
        "revision": post.revision,
        "created_at": iso_time(post.created_at),
        "published_at": iso_time(post.published_at),
        "updated_at": iso_time(post.updated_at),
        "edited_at": iso_time(post.edited_at),
    }


def editor_post(post: LiveBlogPost) -> dict[str, Any]:
    """An entry as editors see it: a deleted one keeps its body, for the record."""
    shown = public_post(post) if post.status != PostStatus.deleted else {}
    shown.update(
        id=post.id, article_id=post.article_id, status=post.status, body=post.body,
        html=post.html, author={"id": post.author_id, "name": post.author_name},
        key_event=post.key_event, pinned=post.pinned, revision=post.revision,
        deleted_at=iso_time(post.deleted_at),
    )
    return shown


def public_revision(row: LiveBlogPostRevision) -> dict[str, Any]:
    return {
        "id": row.id,
        "post_id": row.post_id,
        "action": row.action,
        "actor": {"id": row.actor_id, "name": row.actor_name},
        "body": row.body,
        "html": row.html,
        "status": row.status,
        "key_event": row.key_event,
        "pinned": row.pinned,
        "created_at": iso_time(row.created_at),
    }
