"""Disqus XML exports: ``<thread>`` elements (articles) then ``<post>`` elements (comments)."""

from __future__ import annotations

from collections.abc import Iterator
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
from server.imports.xmlstream import attribute, child, local, stream, text_of


def _true(element: Element, name: str) -> bool:
    return text_of(child(element, name)).strip().lower() == "true"


def _thread(element: Element) -> tuple[str, str, str | None, str | None]:
    dsq_id = attribute(element, "id") or ""
    identifier = text_of(child(element, "id")).strip() or None
    link = text_of(child(element, "link")).strip() or None
    title = text_of(child(element, "title")).strip() or None
    return dsq_id, article_id_for(identifier, f"disqus-{dsq_id}"), title, link


def _status(element: Element) -> SourceStatus:
    if _true(element, "isDeleted"):
        return SourceStatus.deleted
    if _true(element, "isSpam"):
        return SourceStatus.spam
    approved = child(element, "isApproved")
    if approved is not None and text_of(approved).strip().lower() == "false":
        return SourceStatus.pending
    return SourceStatus.approved


def _author(element: Element) -> tuple[str, str]:
    author = child(element, "author")
    if author is None:
        return anonymous_key(None, None), "Anonymous"
    name = text_of(child(author, "name")).strip()
    username = text_of(child(author, "username")).strip()
    email = text_of(child(author, "email")).strip()
    key = username if username and not _true(author, "isAnonymous") else anonymous_key(email, name)
    return key, (name or username or "Anonymous")[:200]


def _post(element: Element, threads: dict[str, tuple[str, str | None, str | None]]) -> Item:
    source_id = attribute(element, "id") or ""
    if not source_id:
        return Skipped("(no id)", "post without a dsq:id")
    thread_ref = child(element, "thread")
    thread = threads.get(attribute(thread_ref, "id") or "") if thread_ref is not None else None
    if thread is None:
        return Skipped(source_id, "post of a thread missing from the export")
    created = parse_time(text_of(child(element, "createdAt")))
    if created is None:
        return Skipped(source_id, "no valid createdAt")
    parent = child(element, "parent")
    key, name = _author(element)
    article_id, title, link = thread
    return SourceComment(
        source_id=source_id,
        article_id=article_id,
        article_title=title,
        article_url=link,
        parent_source_id=attribute(parent, "id") if parent is not None else None,
        author_key=user_id_for(Source.disqus, key),
        author_name=name,
        body=html_to_text(text_of(child(element, "message"))),
        created_at=created,
        status=_status(element),
    )


def parse(path: Path) -> Iterator[Item]:
    """Every post of the export, in file order; threads are remembered (id → article)."""
    threads: dict[str, tuple[str, str | None, str | None]] = {}
    depth = 0
    for event, element, root in stream(path):
        if event == "start":
            depth += 1
            continue
        depth -= 1
        if depth != 1:  # only the root's direct children are records
            continue
        name = local(element.tag)
        if name == "thread":
            dsq_id, article_id, title, link = _thread(element)
            threads[dsq_id] = (article_id, title, link)
        elif name == "post":
            yield _post(element, threads)
        root.clear()
