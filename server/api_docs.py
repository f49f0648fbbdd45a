"""OpenAPI descriptions of routes whose views do not carry ``@document`` themselves.

Keyed by (method, canonical path) as ``app.router`` lists them. New views should rather
decorate their handlers with ``server.openapi.document``; this table is for modules written
before the document existed (readers' API, article settings, health).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

from server.articles.views import ArticleUpdate
from server.comments.models import ReportReason
from server.comments.schemas import (
    CommentCreate,
    CommentUpdate,
    CountsQuery,
    RepliesQuery,
    ReportCreate,
    ThreadQuery,
)
from server.openapi import Operation, Reply, error_reply

V1 = "/api/v1"
READERS = ("comments",)
REACTION_PATH = {
    "kind": {"type": "string", "enum": ["like", "respect", "insightful", "funny", "sad", "angry"]},
}


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class CommentAuthor(_Out):
    id: str
    name: str | None


class PublicComment(_Out):
    """A comment as readers see it; a deleted one is a placeholder without body or author."""

    id: int
    article_id: str
    parent_id: int | None
    depth: int
    author: CommentAuthor | None
    body: str
    html: str
    status: str
    featured: bool
    created_at: dt.datetime | None
    edited_at: dt.datetime | None
    reactions: dict[str, int]
    reaction_count: int
    reply_count: int
    mine: bool
    awaiting_review: bool
    my_reactions: list[str]


class ThreadComment(PublicComment):
    replies: list[PublicComment]


class ThreadPage(_Out):
    article_id: str
    sort: str
    comment_count: int
    items: list[ThreadComment]
    awaiting_review: list[PublicComment]
    next_cursor: str | None


class RepliesPage(_Out):
    parent_id: int
    items: list[PublicComment]
    next_cursor: str | None


class ArticleCounts(_Out):
    counts: dict[str, int]


class ReactionCounts(_Out):
    id: int
    reactions: dict[str, int]
    reaction_count: int


class ReportCreated(_Out):
    comment_id: int
    reason: ReportReason
    created_at: dt.datetime


class ArticleSettings(_Out):
    id: str
    title: str | None
    url: str | None
    comments: str
    moderation: str
    closes_at: dt.datetime | None
    comment_count: int
    open: bool


class Health(_Out):
    status: str


class Readiness(_Out):
    ready: bool
    checks: dict[str, dict[str, Any]]


OPENAPI_SCHEMA: Mapping[str, Any] = {"type": "object", "required": ["openapi", "paths"]}

CATALOG: Mapping[tuple[str, str], Operation] = {
    ("GET", f"{V1}/articles/counts"): Operation(
        summary="Approved comment counts of up to 100 articles (section pages)",
        tags=READERS,
        query=CountsQuery,
        responses={200: Reply("Counts by article id; unknown articles count 0.", ArticleCounts)},
    ),
    ("GET", f"{V1}/articles/{{article_id}}/comments"): Operation(
        summary="Published threads of an article, and the caller's comments awaiting review",
        tags=READERS,
        query=ThreadQuery,
        auth="optional",
        responses={
            200: Reply("A page of top-level comments with their first replies.", ThreadPage)
        },
    ),
    ("POST", f"{V1}/articles/{{article_id}}/comments"): Operation(
        summary="Post a comment or reply (stored as pending, then moderated)",
        tags=READERS,
        body=CommentCreate,
        auth="required",
        headers={"Idempotency-Key": {"type": "string", "minLength": 1, "maxLength": 200}},
        responses={
            202: Reply("The stored comment, awaiting moderation.", PublicComment),
            429: error_reply("Rate limited."),
        },
    ),
    ("GET", f"{V1}/comments/{{comment_id}}/replies"): Operation(
        summary="More replies of a published comment",
        tags=READERS,
        query=RepliesQuery,
        auth="optional",
        responses={200: Reply("A page of replies, oldest first.", RepliesPage)},
    ),
    ("PATCH", f"{V1}/comments/{{comment_id}}"): Operation(
        summary="Edit one's comment within the edit window (moderated again)",
        tags=READERS,
        body=CommentUpdate,
        auth="required",
        responses={
            200: Reply("The comment as edited.", PublicComment),
            409: error_reply("Deleted or rejected."),
        },
    ),
    ("DELETE", f"{V1}/comments/{{comment_id}}"): Operation(
        summary="Delete one's comment (a published one leaves a placeholder)",
        tags=READERS,
        auth="required",
        responses={204: Reply("Deleted."), 409: error_reply("Already deleted.")},
    ),
    ("PUT", f"{V1}/comments/{{comment_id}}/reactions/{{kind}}"): Operation(
        summary="Add the caller's reaction (idempotent)",
        tags=READERS,
        auth="required",
        path=REACTION_PATH,
        responses={
            200: Reply("The comment's reaction counts.", ReactionCounts),
            409: error_reply("No longer takes reactions."),
            429: error_reply("Rate limited."),
        },
    ),
    ("DELETE", f"{V1}/comments/{{comment_id}}/reactions/{{kind}}"): Operation(
        summary="Remove the caller's reaction (idempotent)",
        tags=READERS,
        auth="required",
        path=REACTION_PATH,
        responses={
            200: Reply("The comment's reaction counts.", ReactionCounts),
            409: error_reply("No longer takes reactions."),
            429: error_reply("Rate limited."),
        },
    ),
    ("POST", f"{V1}/comments/{{comment_id}}/reports"): Operation(
        summary="Report a published comment (once per reader)",
        tags=READERS,
        body=ReportCreate,
        auth="required",
        responses={
            201: Reply("The report.", ReportCreated),
            409: error_reply("Already reported, or no longer published."),
            429: error_reply("Rate limited."),
        },
    ),
    ("GET", f"{V1}/articles/{{article_id}}"): Operation(
        summary="An article's comment settings (created with defaults on first sight)",
        tags=("articles",),
        responses={200: Reply("The settings.", ArticleSettings)},
    ),
    ("PUT", f"{V1}/articles/{{article_id}}"): Operation(
        summary="Change an article's settings: comments open|closed, moderation post|pre, "
        "closes_at, title, url",
        tags=("articles",),
        body=ArticleUpdate,
        responses={200: Reply("The settings as changed.", ArticleSettings)},
    ),
    ("GET", "/healthz"): Operation(
        summary="Liveness",
        tags=("ops",),
        responses={200: Reply("Alive.", Health)},
    ),
    ("GET", "/readyz"): Operation(
        summary="Readiness: database, Redis and registered components",
        tags=("ops",),
        responses={200: Reply("Ready.", Readiness), 503: Reply("Not ready.", Readiness)},
    ),
    ("GET", "/metrics"): Operation(
        summary="Prometheus metrics",
        tags=("ops",),
        responses={
            200: Reply(
                "Text exposition format.", schema={"type": "string"}, content_type="text/plain"
            )
        },
    ),
}
