"""Isso's SQLite database: ``threads`` (uri, title) and ``comments`` (mode 1 published,
2 awaiting moderation, 4 deleted), read through a cursor in id order."""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from server.imports.records import (
    Item,
    Skipped,
    Source,
    SourceComment,
    SourceStatus,
    anonymous_key,
    article_id_for,
    user_id_for,
)

_MODES = {1: SourceStatus.approved, 2: SourceStatus.pending, 4: SourceStatus.deleted}
_QUERY = (
    "SELECT c.id, c.tid, c.parent, c.created, c.mode, c.text, c.author, c.email,"
    " t.uri, t.title FROM comments c LEFT JOIN threads t ON t.id = c.tid ORDER BY c.id"
)


class BadDatabase(Exception):
    """Not an Isso database."""


def _row(row: tuple[object, ...]) -> Item:
    cid, tid, parent, created, mode, text, author, email, uri, title = row
    source_id = str(cid)
    if uri is None:
        return Skipped(source_id, "comment of a thread missing from the database")
    status = _MODES.get(int(mode)) if isinstance(mode, int) else None
    if status is None:
        return Skipped(source_id, f"unknown mode {mode!r}")
    if not isinstance(created, int | float):
        return Skipped(source_id, "no valid creation time")
    name = str(author).strip() if author else ""
    return SourceComment(
        source_id=source_id,
        article_id=article_id_for(str(uri), f"isso-{tid}"),
        article_title=str(title) if title else None,
        article_url=str(uri),
        parent_source_id=str(parent) if parent else None,
        author_key=user_id_for(Source.isso, anonymous_key(str(email or ""), name)),
        author_name=(name or "Anonymous")[:200],
        body=str(text or ""),
        created_at=dt.datetime.fromtimestamp(float(created), dt.UTC),
        status=status,
    )


def parse(path: Path) -> Iterator[Item]:
    if not path.is_file():
        raise BadDatabase(f"{path} is not a file")
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        try:
            cursor = connection.execute(_QUERY)
        except sqlite3.DatabaseError as exc:
            raise BadDatabase(f"not an Isso database: {exc}") from exc
        with contextlib.closing(cursor):
            for row in cursor:
                yield _row(tuple(row))
    finally:
        connection.close()
