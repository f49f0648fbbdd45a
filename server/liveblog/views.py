"""HTTP views of the live blog: ``editor`` writes, anyone reads. Parse, call one service, answer."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from server.articles.service import check_article_id
from server.auth import Role, current_principal, require_principal, requires
from server.errors import NotFound, error_body
from server.http import json_response, parse_id, parse_json, parse_query
from server.liveblog import service
from server.liveblog.caching import (
    CachedRead,
    PageCache,
    cache_headers,
    etag_matches,
    make_etag,
)
from server.liveblog.schemas import (
    BlogUpdate,
    PageQuery,
    PostCreate,
    PostUpdate,
    PreviewBody,
    PreviewOut,
    TimelineQuery,
)
from server.openapi import Operation, Reply, document
from server.typedefs import CHANNELS, LIVEBLOG_PAGES, SESSIONMAKER, SETTINGS

routes = web.RouteTableDef()


def _article_id(request: web.Request) -> str:
    return check_article_id(request.match_info["article_id"])


def _post_id(request: web.Request) -> int:
    return parse_id(request.match_info["post_id"], "post id")


def setup(app: web.Application) -> list[web.AbstractRouteDef]:
    """The live blog's routes; its per-process cache of anonymous reads goes in app state."""
    app[LIVEBLOG_PAGES] = PageCache(app[SETTINGS].liveblog_page_cache_seconds, name="liveblog")
    return list(routes)


@routes.get("/api/v1/articles/{article_id}/liveblog")
async def read_liveblog(request: web.Request) -> web.StreamResponse:
    article_id = _article_id(request)
    query = parse_query(request, TimelineQuery)
    shape = query.model_dump(exclude_defaults=True)
    anonymous = current_principal(request) is None
    cache = request.app[LIVEBLOG_PAGES]
    if anonymous and cache.enabled:
        read = await cache.get(
            cache.key(article_id, shape), lambda: _render(request, article_id, query, shape)
        )
    elif await _unchanged(request, article_id, shape):
        read = CachedRead(304, b"", await _current_etag(request, article_id, shape))
    else:
        read = await _render(request, article_id, query, shape)
    return _respond(request, read, anonymous=anonymous)


async def _current_etag(request: web.Request, article_id: str, shape: dict[str, Any]) -> str:
    revision = await service.blog_revision(
        sessionmaker=request.app[SESSIONMAKER], article_id=article_id
    )
    return make_etag(article_id, revision, shape)


async def _unchanged(request: web.Request, article_id: str, shape: dict[str, Any]) -> bool:
    """Whether If-None-Match names the current version (one read of the blog row)."""
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is None:
        return False
    return etag_matches(if_none_match, await _current_etag(request, article_id, shape))


async def _render(
    request: web.Request, article_id: str, query: TimelineQuery, shape: dict[str, Any]
) -> CachedRead:
    try:
        page = await _read(request, article_id, query)
    except NotFound as exc:
        return CachedRead(exc.status, orjson.dumps(error_body(exc.code, exc.message)), None)
    etag = make_etag(article_id, page["liveblog"]["revision"], shape)
    return CachedRead(200, orjson.dumps(page), etag)


def _respond(request: web.Request, read: CachedRead, *, anonymous: bool) -> web.Response:
    max_age = request.app[SETTINGS].liveblog_cache_seconds
    if read.etag is None:
        headers = {"Cache-Control": f"public, max-age={max_age}"} if anonymous else {}
        return web.Response(status=read.status, body=read.body, headers=headers,
                            content_type="application/json")
    headers = cache_headers(read.etag, anonymous=anonymous, max_age=max_age)
    if_none_match = request.headers.get("If-None-Match")
    if read.status == 304 or (if_none_match and etag_matches(if_none_match, read.etag)):
        return web.Response(status=304, headers=headers)
    return web.Response(body=read.body, headers=headers, content_type="application/json")


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


def _forget(request: web.Request, article_id: str) -> None:
    request.app[LIVEBLOG_PAGES].invalidate(article_id)


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
    _forget(request, article_id)
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
    _forget(request, article_id)
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
    _forget(request, post["article_id"])
    return json_response(post)


@routes.delete("/api/v1/liveblog/posts/{post_id}")
@requires(Role.editor)
async def delete_post(request: web.Request) -> web.Response:
    article_id = await service.delete_post(
        sessionmaker=request.app[SESSIONMAKER],
        channels=request.app[CHANNELS],
        principal=require_principal(request),
        post_id=_post_id(request),
    )
    _forget(request, article_id)
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
    _forget(request, post["article_id"])
    return json_response(post)


@routes.get("/api/v1/liveblog/posts/{post_id}/history")
@requires(Role.editor)
async def post_history(request: web.Request) -> web.Response:
    history = await service.post_history(
        sessionmaker=request.app[SESSIONMAKER], post_id=_post_id(request)
    )
    return json_response(history, headers={"Cache-Control": "private, no-store"})


PREVIEW = Operation(
    summary="Render a post body as readers would see it, without storing anything",
    description="The same normalisation and sanitiser as publishing; 422 where publishing would.",
    tags=("liveblog",),
    body=PreviewBody,
    responses={200: Reply("The normalised Markdown and the sanitised HTML.", PreviewOut)},
)


@routes.post("/api/v1/liveblog/preview")
@document(PREVIEW)
@requires(Role.editor)
async def preview_post(request: web.Request) -> web.Response:
    payload = await parse_json(request, PreviewBody)
    body, html = service.render_body(payload.body, request.app[SETTINGS])
    return json_response(PreviewOut(body=body, html=html), headers={"Cache-Control": "no-store"})
