"""``baraza serve --demo`` on a bare machine: open /demo/, sign in, comment, see it published by
the in-process scorer, publish a live update from the desk."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.embed.browser.test_thread import TIMEOUT
from tests.live.conftest import ROOT, free_port


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[str]:
    import socket

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BARAZA_")}
    env.update(BARAZA_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/demo.db",
               BARAZA_SCORER="fallback")
    proc = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "serve", "--demo", "--port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"baraza serve --demo exited with {proc.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_the_demo_in_a_minute(demo: str, context: Any) -> None:
    page = context.new_page()
    page.goto(demo + "/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Duale meeting")
    expect(page.get_by_role("heading", name="Reader comments (0)")).to_be_visible()
    expect(page.get_by_role("link", name="Sign in to comment")).to_be_visible()
    page.get_by_label("Your name (demo sign-in)").fill("Amina")
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_label("Write a comment").fill("Good to see the co-operation spelled out.")
    page.get_by_role("button", name="Post").click()
    expect(page.get_by_role("status").filter(has_text="Your comment was published.")
           ).to_be_visible(timeout=TIMEOUT)
    expect(page.locator(".bz-list [data-comment-id]")).to_contain_text("spelled out")
    expect(page.locator('[data-baraza="count"]')).to_have_text("0 comments")  # read on load

    page.get_by_role("button", name="Publish update").click()
    bar = page.get_by_role("button", name="1 new update — show")
    entry = page.locator("[data-post-id]")
    # The first update creates the blog: the mount loads it (no bar for what it loads itself).
    expect(entry.or_(bar).first).to_be_visible(timeout=TIMEOUT)
    if bar.count():
        bar.click()
    expect(entry.first).to_contain_text("area around the blast site has been cleared")
