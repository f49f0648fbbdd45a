"""What the articles API answers: an article's settings."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict

from server.articles.models import Article
from server.db import utcnow


class ArticleSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    title: str | None
    url: str | None
    comments: str
    moderation: str
    closes_at: dt.datetime | None
    comment_count: int
    open: bool

    @classmethod
    def of(cls, article: Article) -> ArticleSettings:
        return cls(
            id=article.id,
            title=article.title,
            url=article.url,
            comments=article.comments,
            moderation=article.moderation,
            closes_at=article.closes_at,
            comment_count=article.comment_count,
            open=article.is_open(utcnow()),
        )
