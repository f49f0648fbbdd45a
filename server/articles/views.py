"""Article settings, for editors and admins."""

from __future__ import annotations

from aiohttp import web
from pydantic import Field, model_validator
from pydantic.json_schema import SkipJsonSchema

from server.articles import service
from server.articles.models import CommentsState, ModerationMode
from server.articles.schemas import ArticleSettings
from server.articles.service import check_article_id
from server.auth import Role, require_principal, requires
from server.http import Payload, Rfc3339, json_response, parse_json
from server.typedefs import SESSIONMAKER

routes = web.RouteTableDef()


class ArticleUpdate(Payload):
    """Fields left out keep their value; ``title``, ``url`` and ``closes_at`` clear with null."""

    title: str | None = Field(default=None, max_length=500)
    url: str | None = Field(default=None, max_length=2000, pattern=r"^https?://")
    comments: CommentsState | SkipJsonSchema[None] = None
    moderation: ModerationMode | SkipJsonSchema[None] = None
    closes_at: Rfc3339 | None = None

    model_config = Payload.model_config | {"strict": False}

    @model_validator(mode="after")
    def _not_null(self) -> ArticleUpdate:
        for name in ("comments", "moderation"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} must not be null")
        return self


# "counts" is the counts route's, not an article's: without the lookahead PUT /articles/counts
# would change an article "counts" and OPTIONS /articles/counts would advertise PUT.
ARTICLE = "/api/v1/articles/{article_id:(?!counts$)[^{}/]+}"


@routes.get(ARTICLE)
async def get_article(request: web.Request) -> web.Response:
    article_id = check_article_id(request.match_info["article_id"])
    article = await service.read_article(
        sessionmaker=request.app[SESSIONMAKER], article_id=article_id
    )
    return json_response(ArticleSettings.of(article))


@routes.put(ARTICLE)
# Editors own their articles; moderators may too, to switch a heated story to pre-moderation.
@requires(Role.editor, Role.moderator)
async def update_article(request: web.Request) -> web.Response:
    article_id = check_article_id(request.match_info["article_id"])
    payload = await parse_json(request, ArticleUpdate)
    article = await service.update_article(
        sessionmaker=request.app[SESSIONMAKER],
        actor=require_principal(request).sub,
        article_id=article_id,
        changes=payload.model_dump(exclude_unset=True),
    )
    return json_response(ArticleSettings.of(article))
