"""Whatever a client sends, the answer is a 4xx with the error format: never a 500."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.liveblog.conftest import ARTICLE, Editor

BLOG = f"/api/v1/articles/{ARTICLE}/liveblog"
POSTS = f"{BLOG}/posts"

BAD_BODIES: list[tuple[str, str, Any, int]] = [
    ("POST", POSTS, b"not json", 400),
    ("POST", POSTS, b"", 400),
    ("POST", POSTS, b"[1, 2]", 400),
    ("POST", POSTS, b'"body"', 400),
    ("POST", POSTS, b"{}", 422),
    ("POST", POSTS, b'{"body": 5}', 422),
    ("POST", POSTS, b'{"body": null}', 422),
    ("POST", POSTS, b'{"body": "x", "pinned": "yes"}', 422),
    ("POST", POSTS, b'{"body": "x", "key_event": 1}', 422),
    ("POST", POSTS, b'{"body": "x", "author": "someone else"}', 422),
    ("POST", POSTS, b'{"body": "   \\n\\t "}', 422),
    ("POST", POSTS, b'{"body": "\\u0000\\u0001"}', 422),
    ("POST", POSTS, b'{"body": "' + b"x" * 20_001 + b'"}', 422),
    ("POST", POSTS, b'{"body": "' + b"x" * 70_000 + b'"}', 413),
    ("POST", POSTS, b'{"body": "\\ud800"}', 400),
    ("PUT", BLOG, b'{"status": "paused"}', 422),
    ("PUT", BLOG, b'{"title": 7}', 422),
    ("PUT", BLOG, b'{"title": "' + b"t" * 501 + b'"}', 422),
    ("PUT", BLOG, b'{"colour": "red"}', 422),
    ("PATCH", "/api/v1/liveblog/posts/{post}", b"{}", 422),
    ("PATCH", "/api/v1/liveblog/posts/{post}", b'{"body": null}', 422),
    ("PATCH", "/api/v1/liveblog/posts/{post}", b'{"pinned": null}', 422),
    ("PATCH", "/api/v1/liveblog/posts/{post}", b'{"body": ""}', 422),
    ("PATCH", "/api/v1/liveblog/posts/{post}", b'{"status": "published"}', 422),
    ("PATCH", "/api/v1/liveblog/posts/{post}", b"nope", 400),
]


@pytest.mark.parametrize(("method", "path", "body", "status"), BAD_BODIES)
async def test_bad_bodies(
    client: TestClient[Any, Any], editor: Editor, blog: Any,
    method: str, path: str, body: bytes, status: int,
) -> None:
    post = await editor.post("entry")
    response = await client.request(
        method, path.format(post=post["id"]), data=body,
        headers={**editor.headers, "Content-Type": "application/json"},
    )
    assert response.status == status, await response.text()
    error = (await response.json())["error"]
    assert error["code"] and error["message"]


BAD_QUERIES = [
    {"limit": "0"}, {"limit": "-3"}, {"limit": "many"}, {"limit": "1001"},
    {"key_events": "maybe"}, {"cursor": "not-a-cursor"}, {"cursor": "e30"},
    {"cursor": "eyJzIjoiYWxsIiwicCI6LTF9"}, {"cursor": "x" * 201}, {"since": "1e3"},
    {"since": str(2**70)}, {"colour": "red"},
]


@pytest.mark.parametrize("params", BAD_QUERIES)
async def test_bad_queries(
    client: TestClient[Any, Any], editor: Editor, blog: Any, params: dict[str, str]
) -> None:
    response = await client.get(BLOG, params=params)
    assert response.status == 400, await response.text()
    assert (await response.json())["error"]["code"] in ("invalid_query", "invalid_cursor")


async def test_repeated_query_parameters(
    client: TestClient[Any, Any], editor: Editor, blog: Any
) -> None:
    response = await client.get(f"{BLOG}?limit=1&limit=2")
    assert response.status == 400


BAD_PATHS = [
    ("GET", "/api/v1/articles/bad%20id/liveblog", 400),
    ("GET", "/api/v1/articles/" + "a" * 129 + "/liveblog", 400),
    ("PUT", "/api/v1/articles/%3Cscript%3E/liveblog", 400),
    ("PATCH", "/api/v1/liveblog/posts/abc", 400),
    ("PATCH", "/api/v1/liveblog/posts/0", 400),
    ("PATCH", "/api/v1/liveblog/posts/-1", 400),
    ("PATCH", "/api/v1/liveblog/posts/99999999999999999999", 400),
    ("PATCH", "/api/v1/liveblog/posts/123456", 404),
    ("DELETE", "/api/v1/liveblog/posts/123456", 404),
    ("POST", "/api/v1/liveblog/posts/123456/publish", 404),
    ("GET", "/api/v1/liveblog/posts/123456/history", 404),
    ("GET", "/api/v1/liveblog/posts/١٢/history", 400),
    ("GET", "/api/v1/articles/nothing-here/liveblog/drafts", 404),
    ("POST", "/api/v1/articles/nothing-here/liveblog/posts", 404),
    ("DELETE", BLOG, 405),
]


@pytest.mark.parametrize(("method", "path", "status"), BAD_PATHS)
async def test_bad_paths(
    client: TestClient[Any, Any], editor: Editor, blog: Any, method: str, path: str, status: int
) -> None:
    body = {"body": "x"} if method in ("PATCH", "POST", "PUT") else None
    response = await client.request(method, path, json=body, headers=editor.headers)
    assert response.status == status, await response.text()
    assert "error" in await response.json()
