"""The word-list test box: entries found through the matcher's own normalisation."""

from __future__ import annotations

import pytest

from tests.moderation.review_support import admin, mod

URL = "/api/v1/moderation/wordlists/test"


async def _test(client, token, **body):
    r = await client.post(URL, json=body, headers=admin(token))
    assert r.status == 200, await r.text()
    return await r.json()


@pytest.mark.parametrize(
    "text",
    [
        "what an idiot",
        "what an іdіot",  # Cyrillic і
        "what an ID\u200bIOT",  # zero-width space inside
        "what an 1d10t",  # leetspeak
        "what an i d i o t",  # spaced out
        "what an iiidiooot",  # letter repeats
    ],
)
async def test_obfuscations_are_seen_through(client, token, text):
    found = await _test(client, token, text=text, banned=[], suspect=["idiot"])
    assert found["suspect"] == ["idiot"] and found["banned"] == []
    assert found["outcome"] == "held"


async def test_normalised_text_and_no_scunthorpe(client, token):
    found = await _test(client, token, text="Ｓcunthorpe news", banned=["cunt"], suspect=[])
    assert found == {
        "normalized": "scunthorpe news", "banned": [], "suspect": [], "outcome": "approved"
    }


async def test_stored_lists_are_used_when_none_are_given(client, token):
    r = await client.put(
        "/api/v1/moderation/wordlists/banned", json={"words": ["w4nker"]}, headers=admin(token)
    )
    assert r.status == 200, await r.text()
    found = await _test(client, token, text="Such a w@nk3r.")
    assert found["banned"] == ["w4nker"] and found["outcome"] == "rejected"
    # Unsaved edits are tried instead of the stored list.
    assert (await _test(client, token, text="Such a w@nk3r.", banned=[]))["banned"] == []


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"text": ""}, "invalid"),
        ({"text": "x" * 10_001}, "invalid"),
        ({"text": 5}, "invalid"),
        ({"text": "ok", "banned": ["!!!"]}, "invalid_wordlist"),
        ({"text": "ok", "suspect": ["x" * 101]}, "invalid_wordlist"),
        ({"text": "ok", "other": []}, "invalid"),
    ],
)
async def test_bad_input_is_a_422(client, token, body, code):
    r = await client.post(URL, json=body, headers=admin(token))
    assert r.status == 422
    assert (await r.json())["error"]["code"] == code


async def test_for_admins_only(client, token):
    r = await client.post(URL, json={"text": "x"}, headers=mod(token))
    assert r.status == 403
    assert (await client.post(URL, json={"text": "x"})).status == 401
