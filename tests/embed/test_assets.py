"""The built widget served by Baraza: ETag, revalidation, gzip, cache policy, manifest check."""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

import pytest

from server.assets import STATIC_DIR, accepts_gzip, load_assets

BUNDLE = "/embed/v1/baraza.js"


def _manifest() -> dict[str, dict[str, object]]:
    return json.loads((STATIC_DIR / "embed" / "v1" / "manifest.json").read_text())


async def test_widget_is_served_with_an_etag_and_revalidates(client):
    r = await client.get(BUNDLE, headers={"Accept-Encoding": "identity"})
    assert r.status == 200
    assert r.headers["Content-Type"] == "text/javascript; charset=utf-8"
    body = await r.read()
    assert hashlib.sha256(body).hexdigest() == _manifest()["baraza.js"]["sha256"]
    assert "Content-Encoding" not in r.headers
    assert r.headers["Cache-Control"] == "public, max-age=300"
    etag = r.headers["ETag"]
    again = await client.get(BUNDLE, headers={"If-None-Match": etag})
    assert again.status == 304
    assert await again.read() == b""


async def test_gzip_when_accepted(client):
    r = await client.get(
        BUNDLE, headers={"Accept-Encoding": "gzip, deflate"}, auto_decompress=False
    )
    assert r.status == 200
    assert r.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in r.headers["Vary"]
    raw = await r.read()
    assert len(raw) == _manifest()["baraza.js"]["gzip_bytes"]
    assert hashlib.sha256(gzip.decompress(raw)).hexdigest() == _manifest()["baraza.js"]["sha256"]


async def test_versioned_url_is_immutable_and_unknown_files_are_404(client):
    version = str(_manifest()["baraza.js"]["sha256"])[:12]
    r = await client.get(f"{BUNDLE}?v={version}")
    assert r.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    stale = await client.get(f"{BUNDLE}?v=000000000000")
    assert stale.headers["Cache-Control"] == "public, max-age=300"
    missing = await client.get("/embed/v1/nothing.js")
    assert missing.status == 404


@pytest.mark.parametrize(
    ("header", "expected"),
    [("gzip", True), ("br, gzip;q=0.5", True), ("gzip;q=0", False), ("identity", False),
     ("", False), ("x-gzip2", False)],
)
def test_accepts_gzip(header: str, expected: bool) -> None:
    assert accepts_gzip(header) is expected


def test_a_file_not_matching_its_manifest_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "embed" / "v1"
    folder.mkdir(parents=True)
    (folder / "baraza.js").write_text("console.log(1)")
    (folder / "manifest.json").write_text(json.dumps({"baraza.js": {"sha256": "0" * 64}}))
    with pytest.raises(RuntimeError, match="does not match its manifest"):
        load_assets(tmp_path)
