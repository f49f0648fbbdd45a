"""HTTP views of the live blog: ``editor`` writes, anyone reads. Parse, call one service, answer."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from server.articles.service import check_article_id
from server.auth import Role, current_principal, require_principal, requires
from server.http import json_response, parse_id, parse_json, parse_query
from server.liveblog import service
from server.liveblog.caching import cache_headers, etag_matches, make_etag
from server.liveblog.schemas import BlogUpdate, PageQuery, PostCreate, PostUpdate, TimelineQuery
from server.typedefs import CHANNELS, SESSIONMAKER, SETTINGS

routes = web.RouteTableDef()


def _article_id(request: web.Request) -> str:
    return check_article_id(request.match_info["article_id"])


def _post_id(request: web.Request) -> int:
    return parse_id(request.match_info["post_id"], "post id")


@routes.get("/api/v1/articles/{article_id}/liveblog")
async def read_liveblog(request: web.Request) -> web.StreamResponse:
    article_id = _article_id(request)
    query = parse_query(request, TimelineQuery)
    app = request.app
    anonymous = current_principal(request) is None
    shape = query.model_dump(exclude_defaults=True)
    if (if_none_match := request.headers.get("If-None-Match")) is not None:
        revision = await service.blog_revision(
            sessionmaker=app[SESSIONMAKER], article_id=article_id
        )
        etag = make_etag(article_id, revision, shape)
        if etag_matches(if_none_match, etag):
            headers = cache_headers(
                etag, anonymous=anonymous, max_age=app[SETTINGS].liveblog_cache_seconds
            )
            return web.Response(status=304, headers=headers)
    page = await _read(request, article_id, query)
    etag = make_etag(article_id, page["liveblog"]["revision"], shape)
    headers = cache_headers(etag, anonymous=anonymous, max_age=app[SETTINGS].liveblog_cache_seconds)
    return json_response(page, headers=headers)


async def _read(request: web.Request, article_id: str, query: TimelineQuery) -> dict[str, Any]:
    app = request.app
    if query.since is not None:
        return await service.changes_since(
            sessionmaker=app[SESSIONMAKER], settings=app[SETTINGS], article_id=article_id,
            since=query.since, limit=query.limit,
        )
    return await service.timeline(
        sessionmaker=app[SESSIONMAKER], settings=app[SETTINGS], article_id=article_id,
        cursor=query.cursor, limit=query.limit, key_events=query.key_events,
    )


@routes.put("/api/v1/articles/{article_id}/liveblog")
@requires(Role.editor)
async def put_liveblog(request: web.Request) -> web.Response:
    article_id = _article_id(request)
    payload = await parse_json(request, BlogUpdate)
    blog, created = await service.put_blog(
        sessionmaker=request.app[SESSIONMAKER],
        channels=request.app[CHANNELS],
        principal=require_principal(request),
        article_id=article_id,
        changes=payload.model_dump(exclude_unset=True),
    )
    return json_response(blog, status=201 if created else 200)


@routes.post("/api/v1/articles/{article_id}/liveblog/posts")
@requires(Role.editor)
async def create_post(request: web.Request) -> web.Response:
    article_id = _article_id(request)
    payload = await parse_json(request, PostCreate)
    post = await service.create_post(
        sessionmaker=request.app[SESSIONMAKER],
        channels=request.app[CHANNELS],
        settings=request.app[SETTINGS],
        principal=require_principal(request),
        article_id=article_id,
        body=payload.body,
        key_event=payload.key_event,
        pinned=payload.pinned,
        draft=payload.draft,
    )
    return json_response(post, status=201)


@routes.get("/api/v1/articles/{article_id}/liveblog/drafts")
@requires(Role.editor)
async def list_drafts(request: web.Request) -> web.Response:
    article_id = _article_id(request)
    query = parse_query(request, PageQuery)
    page = await service.list_drafts(
        sessionmaker=request.app[SESSIONMAKER],
        settings=request.app[SETTINGS],
        article_id=article_id,
        cursor=query.cursor,
        limit=query.limit,
    )
    return json_response(page, headers={"Cache-Control": "private, no-store"})


@routes.patch("/api/v1/liveblog/posts/{post_id}")
@requires(Role.editor)
async def edit_post(request: web.Request) -> web.Response:
    post_id = _post_id(request)
    payload = await parse_json(request, PostUpdate)
    post = await service.edit_post(
        sessionmaker=request.app[SESSIONMAKER],
        channels=request.app[CHANNELS],
        settings=request.app[SETTINGS],
        principal=require_principal(request),
        post_id=post_id,
        changes=payload.model_dump(exclude_unset=True),
    )
    return json_response(post)


@routes.delete("/api/v1/liveblog/posts/{post_id}")
@requires(Role.editor)
async def delete_post(request: web.Request) -> web.Response:
    await service.delete_post(
        sessionmaker=request.app[SESSIONMAKER],
        channels=request.app[CHANNELS],
        principal=require_principal(request),
        post_id=_post_id(request),
    )
    return web.Response(status=204)


@routes.post("/api/v1/liveblog/posts/{post_id}/publish")
@requires(Role.editor)
async def publish_post(request: web.Request) -> web.Response:
    post = await service.publish_post(
        sessionmaker=request.app[SESSIONMAKER],
        channels=request.app[CHANNELS],
        principal=require_principal(request),
        post_id=_post_id(request),
    )
    return json_response(post)


@routes.get("/api/v1/liveblog/posts/{post_id}/history")
@requires(Role.editor)
async def post_history(request: web.Request) -> web.Response:
    history = await service.post_history(
        sessionmaker=request.app[SESSIONMAKER], post_id=_post_id(request)
    )
    return json_response(history, headers={"Cache-Control": "private, no-store"})
