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

from server.articles.schemas import ArticleSettings
from server.articles.views import ArticleUpdate
from server.comments.schemas import (
    CommentCreate,
    CommentUpdate,
    CountsQuery,
    ReactionCounts,
    RepliesQuery,
    ReportCreate,
    ReportCreated,
    ThreadQuery,
)
from server.liveblog.docs import (
    DraftsPage,
    EditorEntryOut,
    EntryHistory,
    LiveBlogOut,
    Timeline,
)
from server.liveblog.schemas import BlogUpdate, PostCreate, PostUpdate, TimelineQuery
from server.liveblog.schemas import PageQuery as DraftsQuery
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


class Health(_Out):
    status: str


class Readiness(_Out):
    ready: bool
    checks: dict[str, dict[str, Any]]


LIVEBLOG = ("liveblog",)
LIVE = ("live",)
# One Server-Sent Event as a client's parser sees it: its `data` is a JSON server op.
SSE_EVENT = {
    "type": "object",
    "required": ["data"],
    "properties": {
        "event": {"type": "string", "description": "subscribed, presence, error or the event type"},
        "id": {"type": "string", "pattern": "^[0-9]{1,16}$"},
        "data": {"type": "string", "contentMediaType": "application/json"},
        "retry": {"type": "integer", "minimum": 0},
    },
}
WEBSOCKET = Operation(
    summary="Live updates over WebSocket (subscribe to article:{id} or moderation channels)",
    description="Client ops: subscribe {channel, since?}, unsubscribe, ping, auth {token}. "
    "Server ops: subscribed, event, presence, error, pong. A token may come as ?token=.",
    tags=LIVE,
    auth="optional",
    streaming=True,
    responses={
        101: Reply("Switching protocols to WebSocket."),
        400: error_reply("Not a WebSocket upgrade request (websocket_required)."),
        429: error_reply("Too many live connections from this address (live_ip_limit)."),
        503: error_reply("This process is full or stopping (live_full, shutting_down)."),
    },
)


def _reaction(summary: str) -> Operation:
    return Operation(
        summary=summary,
        tags=READERS,
        auth="required",
        path=REACTION_PATH,
        responses={
            200: Reply("The comment's reaction counts.", ReactionCounts),
            409: error_reply("No longer takes reactions."),
            429: error_reply("Rate limited."),
        },
    )


CATALOG: Mapping[tuple[str, str], Operation] = {
    ("GET", f"{V1}/articles/counts"): Operation(
        summary="Approved comment counts of up to 100 articles (section pages)",
        tags=READERS,
        query=CountsQuery,
        # URLs longer than aiohttp's request line limit never arrive: 8000 characters at most.
        query_overrides={"ids": {"maxLength": 8000}},
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
    ("PUT", f"{V1}/comments/{{comment_id}}/reactions/{{kind}}"): _reaction(
        "Add the caller's reaction (idempotent)"
    ),
    ("DELETE", f"{V1}/comments/{{comment_id}}/reactions/{{kind}}"): _reaction(
        "Remove the caller's reaction (idempotent)"
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
    ("GET", f"{V1}/live"): WEBSOCKET,
    ("GET", "/live"): WEBSOCKET,
    ("GET", f"{V1}/articles/{{article_id}}/events"): Operation(
        summary="Server-Sent Events of an article's channel (Last-Event-ID resumes)",
        tags=LIVE,
        streaming=True,
        # Empty is what a client sends before it has seen an event: the stream starts fresh.
        headers={"Last-Event-ID": {"type": "string", "pattern": "^[0-9]{0,16}$"}},
        responses={
            200: Reply("An event stream.", schema=SSE_EVENT, content_type="text/event-stream"),
            429: error_reply("Too many connections."),
        },
    ),
    ("GET", f"{V1}/articles/{{article_id}}/liveblog"): Operation(
        summary="An article's live blog: a page of its timeline, or the changes since a revision",
        tags=LIVEBLOG,
        query=TimelineQuery,
        auth="optional",
        headers={"If-None-Match": {"type": "string", "maxLength": 200}},
        responses={
            200: Reply("The timeline.", Timeline),
            304: Reply("Not modified since the ETag given."),
        },
    ),
    ("PUT", f"{V1}/articles/{{article_id}}/liveblog"): Operation(
        summary="Create an article's live blog, or change its title or status (live|ended)",
        tags=LIVEBLOG,
        body=BlogUpdate,
        responses={
            200: Reply("The blog as changed.", LiveBlogOut),
            201: Reply("The blog, created.", LiveBlogOut),
            409: error_reply("The blog's state does not allow this."),
        },
    ),
    ("POST", f"{V1}/articles/{{article_id}}/liveblog/posts"): Operation(
        summary="Post an entry (Markdown), optionally as a key event, pinned, or a draft",
        tags=LIVEBLOG,
        body=PostCreate,
        responses={
            201: Reply("The entry.", EditorEntryOut),
            409: error_reply("The blog has ended or does not exist."),
        },
    ),
    ("GET", f"{V1}/articles/{{article_id}}/liveblog/drafts"): Operation(
        summary="Draft entries of a live blog",
        tags=LIVEBLOG,
        query=DraftsQuery,
        responses={200: Reply("A page of drafts.", DraftsPage)},
    ),
    ("PATCH", f"{V1}/liveblog/posts/{{post_id}}"): Operation(
        summary="Correct, pin or unpin an entry",
        tags=LIVEBLOG,
        body=PostUpdate,
        responses={
            200: Reply("The entry as changed.", EditorEntryOut),
            409: error_reply("The entry was deleted."),
        },
    ),
    ("DELETE", f"{V1}/liveblog/posts/{{post_id}}"): Operation(
        summary="Delete an entry (a tombstone stays in the timeline)",
        tags=LIVEBLOG,
        responses={204: Reply("Deleted."), 409: error_reply("Already deleted.")},
    ),
    ("POST", f"{V1}/liveblog/posts/{{post_id}}/publish"): Operation(
        summary="Publish a draft entry",
        tags=LIVEBLOG,
        responses={
            200: Reply("The published entry.", EditorEntryOut),
            409: error_reply("Not a draft."),
        },
    ),
    ("GET", f"{V1}/liveblog/posts/{{post_id}}/history"): Operation(
        summary="Every revision of an entry",
        description="Editors' audit trail: a deleted entry is still served here (status deleted, "
        "its last text and every revision, the deletion last), while reads of the timeline "
        "no longer show it.",
        tags=LIVEBLOG,
        responses={200: Reply("The entry and its revisions.", EntryHistory)},
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
