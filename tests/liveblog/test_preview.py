"""The desk's Markdown preview: exactly what publishing would store and show."""

from __future__ import annotations

from tests.conftest import auth

URL = "/api/v1/liveblog/preview"


def editor(token):
    return auth(token("editor-1", roles=["editor"]))


async def test_preview_matches_the_published_entry(client, token):
    body = "## Update\n\n**Explosion** at the depot <script>alert(1)</script> [map](javascript:x)"
    r = await client.post(URL, json={"body": body}, headers=editor(token))
    assert r.status == 200, await r.text()
    shown = await r.json()
    assert "<strong>Explosion</strong>" in shown["html"]
    assert "<script" not in shown["html"] and "href=\"javascript" not in shown["html"]
    await client.put("/api/v1/articles/a1/liveblog", json={"title": "Live"}, headers=editor(token))
    r = await client.post(
        "/api/v1/articles/a1/liveblog/posts", json={"body": body}, headers=editor(token)
    )
    assert r.status == 201, await r.text()
    post = await r.json()
    assert (post["body"], post["html"]) == (shown["body"], shown["html"])


async def test_preview_refuses_what_publishing_refuses(client, token, make_settings, make_client):
    for body, code in (("   ", "body_empty"), ("\n\n", "body_empty")):
        r = await client.post(URL, json={"body": body}, headers=editor(token))
        assert r.status == 422, body
        assert (await r.json())["error"]["code"] == code
    small = await make_client(make_settings(liveblog_body_max_chars=10))
    r = await small.post(URL, json={"body": "x" * 11}, headers=editor(token))
    assert r.status == 422 and (await r.json())["error"]["code"] == "body_too_long"
    r = await client.post(URL, json={"body": 1}, headers=editor(token))
    assert r.status == 422


async def test_preview_is_for_editors(client, token):
    r = await client.post(URL, json={"body": "x"}, headers=auth(token("reader-1")))
    assert r.status == 403 and (await r.json())["error"]["code"] == "missing_role"
    assert (await client.post(URL, json={"body": "x"})).status == 401
