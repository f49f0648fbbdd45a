"""Live-blog fixtures: tokens for each role and a small client wrapper for the API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import auth

ARTICLE = "kenya-us-defence-2026"


class Editor:
    """Drives the live-blog API as one signed-in user; every call checks its status."""

    def __init__(self, client: TestClient[Any, Any], token: str) -> None:
        self.client = client
        self.headers = auth(token)

    async def call(self, method: str, path: str, status: int, **kwargs: Any) -> Any:
        response = await self.client.request(method, path, headers=self.headers, **kwargs)
        text = await response.text()
        if response.status != status:
            raise AssertionError(f"{method} {path}: {response.status} {text}")
        return await response.json() if text else None

    async def open_blog(
        self, article: str = ARTICLE, title: str = "Live: Duale meets Austin"
    ) -> Any:
        return await self.call(
            "PUT", f"/api/v1/articles/{article}/liveblog", 201, json={"title": title}
        )

    async def post(self, body: str, article: str = ARTICLE, status: int = 201, **flags: Any) -> Any:
        return await self.call(
            "POST", f"/api/v1/articles/{article}/liveblog/posts", status,
            json={"body": body, **flags},
        )

    async def edit(self, post_id: int, status: int = 200, **changes: Any) -> Any:
        return await self.call("PATCH", f"/api/v1/liveblog/posts/{post_id}", status, json=changes)

    async def delete(self, post_id: int, status: int = 204) -> Any:
        return await self.call("DELETE", f"/api/v1/liveblog/posts/{post_id}", status)

    async def publish(self, post_id: int, status: int = 200) -> Any:
        return await self.call("POST", f"/api/v1/liveblog/posts/{post_id}/publish", status)

    async def history(self, post_id: int) -> Any:
        return await self.call("GET", f"/api/v1/liveblog/posts/{post_id}/history", 200)

    async def read(self, article: str = ARTICLE, **params: Any) -> Any:
        return await self.call("GET", f"/api/v1/articles/{article}/liveblog", 200, params=params)


@pytest.fixture
def editor_token(token: Callable[..., str]) -> str:
    return token("editor-1", name="Amina Editor", roles=["editor"])


@pytest.fixture
async def editor(client: TestClient[Any, Any], editor_token: str) -> Editor:
    return Editor(client, editor_token)


@pytest.fixture
async def blog(editor: Editor) -> Any:
    return await editor.open_blog()


async def read_anonymous(
    client: TestClient[Any, Any], article: str = ARTICLE, **params: Any
) -> Any:
    response = await client.get(f"/api/v1/articles/{article}/liveblog", params=params)
    assert response.status == 200, await response.text()
    return await response.json()


class Recorder:
    """Every event the app's broker was asked to publish, in order, as (channel, type, data)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, dict[str, Any]]] = []

    def of(self, type: str) -> list[dict[str, Any]]:
        return [data for _, t, data in self.events if t == type]


@pytest.fixture
def published(client: TestClient[Any, Any], monkeypatch: pytest.MonkeyPatch) -> Recorder:
    from server.typedefs import CHANNELS

    broker = client.app[CHANNELS]
    original = broker.publish
    recorder = Recorder()

    async def publish(channel: str, type: Any, data: Any) -> Any:
        recorder.events.append((channel, str(type), dict(data)))
        return await original(channel, type, data)

    monkeypatch.setattr(broker, "publish", publish)
    return recorder
