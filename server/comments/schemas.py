"""Request payloads and the public JSON shape of a comment."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from server.comments.models import Comment, ReactionKind, ReportReason
from server.comments.reads import Sort, render
from server.cursors import decode_cursor, encode_cursor, foreign_cursor
from server.http import Payload
from server.ids import ARTICLE_ID_PATTERN

# The schema says what the server refuses: NUL, or a body that normalise_body leaves empty
# (``body_empty``): whitespace, control characters (C0 and C1) and zero-width marks only.
VISIBLE_BODY = r"^[^\x00]*[^\s\x00-\x1f\x7f-\x9f\u200b\u200c\u200d\u2060\ufeff][^\x00]*$"
BODY = Field(json_schema_extra={"pattern": VISIBLE_BODY})


class ArticleHint(Payload):
    """What the embedding page says of its article; stored only by the post that creates it."""

    title: str | None = Field(default=None, max_length=500)
    url: str | None = Field(default=None, max_length=2000, pattern=r"^https?://")


class CommentCreate(Payload):
    body: str = BODY
    parent_id: int | None = Field(default=None, gt=0, le=2**63 - 1)
    article: ArticleHint | None = None


class CommentUpdate(Payload):
    body: str = BODY


class ReportCreate(Payload):
    reason: ReportReason
    note: str | None = Field(default=None, max_length=1000)

    model_config = ConfigDict(extra="forbid", strict=False, frozen=True)


class ReactionCounts(BaseModel):
    """A comment's reaction counts after the caller's reaction changed (or did not)."""

    model_config = ConfigDict(frozen=True)

    id: int
    article_id: str
    reactions: dict[str, int]
    reaction_count: int


class ReportCreated(BaseModel):
    model_config = ConfigDict(frozen=True)

    comment_id: int
    article_id: str
    reason: ReportReason
    created_at: dt.datetime


class ThreadQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sort: Sort = Sort.newest
    cursor: str | None = Field(default=None, max_length=200)
    limit: int | None = Field(default=None, ge=1, le=100)


class RepliesQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cursor: str | None = Field(default=None, max_length=200)
    limit: int | None = Field(default=None, ge=1, le=100)


# 1-100 article ids, comma-separated (a trailing comma is tolerated).
_ONE_ID = ARTICLE_ID_PATTERN.removeprefix("^").removesuffix("$")
ARTICLE_IDS_PATTERN = f"^{_ONE_ID}(,{_ONE_ID}){{0,99}},?$"


class CountsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ids: str = Field(min_length=1, max_length=100 * 130, pattern=ARTICLE_IDS_PATTERN)


class Cursor(BaseModel):
    """Where a page ended: the sort it belongs to and the last row's keys."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    s: str
    id: int = Field(gt=0)
    rc: int | None = None

    def encode(self) -> str:
        return encode_cursor(self)

    @classmethod
    def decode(cls, token: str, sort: str) -> Cursor:
        cursor = decode_cursor(cls, token)
        if cursor.s != sort or (sort == Sort.top and cursor.rc is None):
            raise foreign_cursor()
        return cursor


def public_comment(
    comment: Comment,
    author_name: str | None,
    *,
    viewer: str | None,
    my_reactions: frozenset[str] = frozenset(),
    edit_window: dt.timedelta | None = None,
) -> dict[str, Any]:
    """A comment as readers see it; a deleted one is a placeholder without body or author.

    One rendering for ORM objects and the hot path's plain rows (``reads.render``).
    """
    row = (
        comment.id,
        comment.article_id,
        comment.parent_id,
        comment.depth,
        comment.author_id,
        comment.body,
        comment.html,
        comment.status,
        comment.featured,
        comment.created_at,
        comment.edited_at,
        comment.reactions,
        comment.reaction_count,
        comment.reply_count,
        author_name,
    )
    return render(row, viewer=viewer, my_reactions=my_reactions, edit_window=edit_window)


REACTION_KINDS = frozenset(k.value for k in ReactionKind)
