"""HTTP views of the readers' comment API: parse, call one service, answer."""

from __future__ import annotations

import math

import orjson
from aiohttp import web

from server.articles.service import check_article_id
from server.auth import authenticated, current_principal, require_principal
from server.comments import service
from server.comments.schemas import (
    REACTION_KINDS,
    CommentCreate,
    CommentUpdate,
    CountsQuery,
    RepliesQuery,
    ReportCreate,
    ThreadQuery,
)
from server.db import Sessionmaker
from server.errors import BadRequest, NotFound
from server.http import json_response, parse_id, parse_json, parse_query
from server.pagecache import CachedRead, PageCache
from server.ratelimit import client_ip, limited
from server.typedefs import EVENTS, JOBS, READ_SESSIONMAKER, SESSIONMAKER, SETTINGS, THREAD_PAGES

routes = web.RouteTableDef()


def setup(app: web.Application) -> list[web.AbstractRouteDef]:
    """The readers' routes; the per-process cache of anonymous thread pages goes in app state."""
    app[THREAD_PAGES] = PageCache(app[SETTINGS].thread_cache_seconds)
    return list(routes)


def _viewer(request: web.Request) -> str | None:
    principal = current_principal(request)
    return principal.sub if principal else None


def _reads_for(request: web.Request, viewer: str | None) -> Sessionmaker:
    """Anonymous reads may go to a replica; a signed-in reader sees their own writes at once."""
    return request.app[READ_SESSIONMAKER] if viewer is None else request.app[SESSIONMAKER]


@routes.get("/api/v1/articles/counts")
async def article_counts(request: web.Request) -> web.Response:
    query = parse_query(request, CountsQuery)  # 1-100 well-formed ids (its pattern)
    ids = [i for i in query.ids.split(",") if i]
    counts = await service.article_counts(sessionmaker=request.app[READ_SESSIONMAKER], ids=ids)
    return json_response({"counts": counts})


@routes.get("/api/v1/articles/{article_id}/comments")
async def list_thread(request: web.Request) -> web.Response:
    article_id = check_article_id(request.match_info["article_id"])
    query = parse_query(request, ThreadQuery)
    viewer = _viewer(request)

    async def render() -> CachedRead:
        page = await service.list_thread(
            sessionmaker=_reads_for(request, viewer),
            settings=request.app[SETTINGS],
            article_id=article_id,
            sort=query.sort,
            cursor=query.cursor,
            limit=query.limit,
            viewer=viewer,
        )
        return CachedRead(200, orjson.dumps(page), None)

    cache = request.app[THREAD_PAGES]
    if viewer is not None or not cache.enabled:
        read = await render()
        control = "private, no-store"
    else:
        # Every anonymous reader of an article sees the same page: render it once per process.
        read = await cache.get(cache.key(article_id, query.model_dump(mode="json")), render)
        control = f"public, max-age={math.ceil(request.app[SETTINGS].thread_cache_seconds)}"
    return web.Response(
        body=read.body,
        content_type="application/json",
        headers={"Cache-Control": control, "Vary": "Authorization"},
    )


@routes.post("/api/v1/articles/{article_id}/comments")
@authenticated
# Every attempt counts, a replayed Idempotency-Key too: a fresh key per post must not skip it.
@limited("comments")
async def post_comment(request: web.Request) -> web.Response:
    article_id = check_article_id(request.match_info["article_id"])
    principal = require_principal(request)
    key = request.headers.get("Idempotency-Key")
    if key is not None and not 0 < len(key) <= request.app[SETTINGS].idempotency_key_max:
        raise BadRequest("Idempotency-Key must be 1-200 characters", code="invalid_idempotency_key")
    payload = await parse_json(request, CommentCreate)
    posted = await service.post_comment(
        sessionmaker=request.app[SESSIONMAKER],
        events=request.app[EVENTS],
        jobs=request.app[JOBS],
        settings=request.app[SETTINGS],
        principal=principal,
        article_id=article_id,
        body=payload.body,
        parent_id=payload.parent_id,
        idempotency_key=key,
        address=client_ip(request),
        article_title=payload.article.title if payload.article else None,
        article_url=payload.article.url if payload.article else None,
    )
    headers = {"Idempotent-Replayed": "true"} if posted.replayed else None
    return json_response(posted.comment, status=202, headers=headers)


@routes.get("/api/v1/comments/{comment_id}/replies")
async def list_replies(request: web.Request) -> web.Response:
    comment_id = parse_id(request.match_info["comment_id"], "comment id")
    query = parse_query(request, RepliesQuery)
    viewer = _viewer(request)
    page = await service.list_replies(
        sessionmaker=_reads_for(request, viewer),
        settings=request.app[SETTINGS],
        comment_id=comment_id,
        cursor=query.cursor,
        limit=query.limit,
        viewer=viewer,
    )
    return json_response(page)


@routes.patch("/api/v1/comments/{comment_id}")
@authenticated
@limited("actions")
async def edit_comment(request: web.Request) -> web.Response:
    comment_id = parse_id(request.match_info["comment_id"], "comment id")
    payload = await parse_json(request, CommentUpdate)
    principal = require_principal(request)
    comment = await service.edit_comment(
        events=request.app[EVENTS],
        jobs=request.app[JOBS],
        settings=request.app[SETTINGS],
        principal=principal,
        comment_id=comment_id,
        body=payload.body,
    )
    return json_response(comment)


@routes.delete("/api/v1/comments/{comment_id}")
@authenticated
async def delete_comment(request: web.Request) -> web.Response:
    comment_id = parse_id(request.match_info["comment_id"], "comment id")
    await service.delete_comment(
        events=request.app[EVENTS],
        principal=require_principal(request),
        comment_id=comment_id,
    )
    return web.Response(status=204)


def _reaction_kind(request: web.Request) -> str:
    kind = request.match_info["kind"]
    if kind not in REACTION_KINDS:
        raise NotFound(
            f"unknown reaction; use one of {', '.join(sorted(REACTION_KINDS))}",
            code="unknown_reaction",
        )
    return kind


@routes.put("/api/v1/comments/{comment_id}/reactions/{kind}")
@authenticated
@limited("actions")
async def add_reaction(request: web.Request) -> web.Response:
    return await _react(request, on=True)


@routes.delete("/api/v1/comments/{comment_id}/reactions/{kind}")
@authenticated
@limited("actions")
async def remove_reaction(request: web.Request) -> web.Response:
    return await _react(request, on=False)


async def _react(request: web.Request, *, on: bool) -> web.Response:
    comment_id = parse_id(request.match_info["comment_id"], "comment id")
    kind = _reaction_kind(request)
    counts = await service.react(
        events=request.app[EVENTS],
        principal=require_principal(request),
        comment_id=comment_id,
        kind=kind,
        on=on,
    )
    return json_response(counts)


@routes.post("/api/v1/comments/{comment_id}/reports")
@authenticated
@limited("actions")
async def report_comment(request: web.Request) -> web.Response:
    comment_id = parse_id(request.match_info["comment_id"], "comment id")
    payload = await parse_json(request, ReportCreate)
    result = await service.report(
        events=request.app[EVENTS],
        principal=require_principal(request),
        comment_id=comment_id,
        reason=payload.reason,
        note=payload.note,
    )
    return json_response(result, status=201)
