"""The live blog's JSON shapes, as models for the OpenAPI document.

``schemas.public_blog``/``public_post``/``editor_post``/``public_revision`` build these dicts;
the schemathesis gate checks every answer against these models (extra keys refused), so the two
cannot drift apart unnoticed.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel

from server.liveblog.models import BlogStatus, PostAction, PostStatus


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Person(_Out):
    id: str
    name: str | None


class LiveBlogOut(_Out):
    article_id: str
    title: str | None
    status: BlogStatus
    revision: int
    created_at: str | None = Field(description="RFC 3339")
    updated_at: str | None
    ended_at: str | None


class EntryOut(_Out):
    """An entry as readers and live events show it."""

    id: int
    article_id: str
    status: PostStatus
    author: Person
    body: str
    html: str
    key_event: bool
    pinned: bool
    revision: int
    created_at: str | None
    published_at: str | None
    updated_at: str | None
    edited_at: str | None


class DeletedEntryOut(_Out):
    """A deleted entry in the timeline: a bare tombstone."""

    id: int
    article_id: str
    status: Literal["deleted"]
    deleted: Literal[True]
    revision: int
    deleted_at: str | None


class EditorEntryOut(_Out):
    """An entry as editors see it: a deleted one keeps its text (without its reader dates)."""

    id: int
    article_id: str
    status: PostStatus
    author: Person
    body: str
    html: str
    key_event: bool
    pinned: bool
    revision: int
    deleted_at: str | None
    created_at: str | None = None
    published_at: str | None = None
    updated_at: str | None = None
    edited_at: str | None = None


class TimelinePage(_Out):
    liveblog: LiveBlogOut
    pinned: EntryOut | None
    items: list[EntryOut | DeletedEntryOut]
    next_cursor: str | None


class TimelineChanges(_Out):
    """With ``since``: every change after that revision, tombstones included."""

    liveblog: LiveBlogOut
    since: int
    changes: list[EntryOut | DeletedEntryOut]
    next_since: int
    more: bool


class Timeline(RootModel[TimelinePage | TimelineChanges]):
    """A page of the timeline, or (with ``since``) the changes after a revision."""


class DraftsPage(_Out):
    items: list[EditorEntryOut]
    next_cursor: str | None


class RevisionOut(_Out):
    id: int
    post_id: int
    action: PostAction
    actor: Person
    body: str
    html: str
    status: PostStatus
    key_event: bool
    pinned: bool
    created_at: str | None


class EntryHistory(_Out):
    post: EditorEntryOut
    history: list[RevisionOut]
