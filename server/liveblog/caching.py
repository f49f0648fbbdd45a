"""HTTP caching of live-blog reads: ETags made from the blog's revision, and who may cache.

A blog's revision changes with every write, so ``(revision, query)`` names a response
exactly; answering ``If-None-Match`` needs one indexed read of the blog row and no entries.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from server.pagecache import CachedRead, PageCache

__all__ = ["CachedRead", "PageCache", "cache_headers", "etag_matches", "make_etag"]

# Bump when the JSON shape changes, so caches drop responses of the old shape.
FORMAT = "1"


def make_etag(article_id: str, revision: int, query: Mapping[str, object]) -> str:
    canonical = "&".join(f"{k}={query[k]}" for k in sorted(query))
    digest = hashlib.blake2s(f"{article_id}\n{canonical}".encode(), digest_size=6).hexdigest()
    # Weak: the same JSON may be sent compressed or not by a proxy.
    return f'W/"lb{FORMAT}-{revision}-{digest}"'


def _opaque(tag: str) -> str:
    tag = tag.strip()
    return tag[2:] if tag.startswith("W/") else tag


def etag_matches(if_none_match: str, etag: str) -> bool:
    """RFC 9110 §13.1.2: weak comparison against any listed tag, or ``*``."""
    wanted = _opaque(etag)
    return any(
        candidate.strip() == "*" or _opaque(candidate) == wanted
        for candidate in if_none_match.split(",")
    )


def cache_headers(etag: str, *, anonymous: bool, max_age: int) -> dict[str, str]:
    """Anonymous reads are the same for everyone, so a CDN may keep them ``max_age`` seconds;
    anything read with a token stays private to the caller."""
    if anonymous:
        control = f"public, max-age={max_age}, stale-while-revalidate={max_age}"
    else:
        control = "private, no-cache"
    return {"ETag": etag, "Cache-Control": control, "Vary": "Authorization"}
