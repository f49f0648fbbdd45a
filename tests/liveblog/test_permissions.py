"""Who may call what: anyone reads, ``editor`` (or ``admin``) writes; 401 without a token,
403 with one lacking the role. Each case runs against a fresh blog with one entry and one draft."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import auth
from tests.liveblog.conftest import ARTICLE, Editor

ROLES: dict[str, list[str] | None] = {
    "anonymous": None,
    "reader": [],
    "moderator": ["moderator"],
    "editor": ["editor"],
    "admin": ["admin"],
}

# (method, path with {post}/{draft} placeholders, JSON body, status for a permitted caller)
ROUTES: list[tuple[str, str, Any, int]] = [
    ("GET", f"/api/v1/articles/{ARTICLE}/liveblog", None, 200),
    ("PUT", f"/api/v1/articles/{ARTICLE}/liveblog", {"title": "Renamed"}, 200),
    ("POST", f"/api/v1/articles/{ARTICLE}/liveblog/posts", {"body": "New entry"}, 201),
    ("GET", f"/api/v1/articles/{ARTICLE}/liveblog/drafts", None, 200),
    ("PATCH", "/api/v1/liveblog/posts/{post}", {"body": "Corrected"}, 200),
    ("DELETE", "/api/v1/liveblog/posts/{post}", None, 204),
    ("POST", "/api/v1/liveblog/posts/{draft}/publish", None, 200),
    ("GET", "/api/v1/liveblog/posts/{post}/history", None, 200),
]
PUBLIC = {("GET", f"/api/v1/articles/{ARTICLE}/liveblog")}


@pytest.mark.parametrize("role", list(ROLES))
@pytest.mark.parametrize(("method", "path", "body", "ok"), ROUTES)
async def test_permission_matrix(
    client: TestClient[Any, Any], editor: Editor, token: Callable[..., str],
    role: str, method: str, path: str, body: Any, ok: int,
) -> None:
    await editor.open_blog()
    post = await editor.post("An entry")
    draft = await editor.post("A draft", draft=True)
    roles = ROLES[role]
    headers = {} if roles is None else auth(token(f"{role}-7", roles=roles))
    url = path.format(post=post["id"], draft=draft["id"])
    response = await client.request(method, url, json=body, headers=headers)
    if (method, path) in PUBLIC or role in ("editor", "admin"):
        expected = ok
    else:
        expected = 401 if roles is None else 403
    assert response.status == expected, await response.text()
    if expected in (401, 403):
        error = (await response.json())["error"]
        assert error["code"] == ("unauthenticated" if expected == 401 else "missing_role")


async def test_a_bad_token_is_refused_even_where_reading_is_public(
    client: TestClient[Any, Any], blog: Any
) -> None:
    response = await client.get(
        f"/api/v1/articles/{ARTICLE}/liveblog", headers={"Authorization": "Bearer nonsense"}
    )
    assert response.status == 401


async def test_writes_leave_nothing_behind_when_refused(
    client: TestClient[Any, Any], editor: Editor, token: Callable[..., str]
) -> None:
    await editor.open_blog()
    reader = auth(token("reader-9"))
    response = await client.post(
        f"/api/v1/articles/{ARTICLE}/liveblog/posts", json={"body": "sneaky"}, headers=reader
    )
    assert response.status == 403
    page = await editor.read()
    assert page["items"] == []
