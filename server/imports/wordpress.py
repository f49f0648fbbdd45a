"""WordPress eXtended RSS (WXR): ``<item>`` per post, ``<wp:comment>`` per comment inside."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from xml.etree.ElementTree import Element

from server.imports.htmltext import html_to_text
from server.imports.records import (
    Item,
    Skipped,
    Source,
    SourceComment,
    SourceStatus,
    anonymous_key,
    article_id_for,
    parse_time,
    user_id_for,
)
from server.imports.xmlstream import child, local, stream, text_of

_STATUSES = {
    "1": SourceStatus.approved,
    "approve": SourceStatus.approved,
    "0": SourceStatus.pending,
    "hold": SourceStatus.pending,
    "spam": SourceStatus.spam,
    "trash": SourceStatus.deleted,
}


@dataclass(slots=True)
class _Post:
    post_id: str = ""
    slug: str | None = None
    title: str | None = None
    link: str | None = None

    @property
    def article_id(self) -> str:
        return article_id_for(self.slug, f"wp-{self.post_id or 'unknown'}")


def _field(element: Element, name: str) -> str:
    return text_of(child(element, name)).strip()


def _comment(element: Element, post: _Post) -> Item:
    source_id = _field(element, "comment_id")
    if not source_id:
        return Skipped("(no id)", "comment without wp:comment_id")
    source_id = f"{post.post_id}/{source_id}"
    kind = _field(element, "comment_type")
    if kind in ("pingback", "trackback"):
        return Skipped(source_id, f"{kind}, not a reader's comment")
    status = _STATUSES.get(_field(element, "comment_approved").lower())
    if status is None:
        return Skipped(source_id, "unknown comment_approved value")
    created = parse_time(_field(element, "comment_date_gmt"))
    if created is None or created.year < 1971:
        created = parse_time(_field(element, "comment_date"))
    if created is None:
        return Skipped(source_id, "no valid comment date")
    parent = _field(element, "comment_parent")
    user = _field(element, "comment_user_id")
    name = _field(element, "comment_author")
    email = _field(element, "comment_author_email")
    key = f"user-{user}" if user and user != "0" else anonymous_key(email, name)
    return SourceComment(
        source_id=source_id,
        article_id=post.article_id,
        article_title=post.title,
        article_url=post.link,
        parent_source_id=f"{post.post_id}/{parent}" if parent and parent != "0" else None,
        author_key=user_id_for(Source.wordpress, key),
        author_name=(name or "Anonymous")[:200],
        body=html_to_text(text_of(child(element, "comment_content"))),
        created_at=created,
        status=status,
    )


_POST_FIELDS = {"post_id": "post_id", "post_name": "slug", "title": "title", "link": "link"}


def parse(path: Path) -> Iterator[Item]:
    """Every comment of every item, in file order (an item's fields precede its comments)."""
    post: _Post | None = None
    for event, element, root in stream(path):
        name = local(element.tag)
        if event == "start":
            if name == "item":
                post = _Post()
            continue
        if post is None:
            continue
        if name == "comment":
            yield _comment(element, post)
            element.clear()
        elif name in _POST_FIELDS and element.text:
            setattr(post, _POST_FIELDS[name], element.text.strip())
        elif name == "item":
            post = None
            root.clear()
