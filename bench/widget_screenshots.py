"""Screenshots of the widget for docs/embed.md, taken from ``baraza serve --demo``.

    .venv/bin/python -m bench.widget_screenshots   # writes docs/embed/*.png

Seeds the demo article with comments (approved by the in-process fallback scorer), a reply, a
featured comment and a live blog, then photographs the thread and the live blog on a desktop
viewport and on a phone-sized one.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from server.auth import mint_token
from server.settings import Settings

ROOT = Path(__file__).resolve().parents[1]

OUT = ROOT / "docs" / "embed"
ARTICLE = "duale-austin-security-cooperation"
COMMENTS = [
    ("Wanjiru", "Good to see the co-operation spelled out. Maritime security matters for Mombasa."),
    ("Hassan", "Condolences to the families after the gas explosion in Embakasi."),
    ("Otieno", "Will the framework be debated in Parliament before 2028?"),
]


def call(base: str, path: str, token: str, body: dict[str, object], method: str = "POST") -> dict:
    request = urllib.request.Request(
        base + path, data=json.dumps(body).encode(), method=method,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as r:
        return json.loads(r.read() or b"{}")


def approved(base: str, n: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"{base}/api/v1/articles/counts?ids={ARTICLE}") as r:
            if json.loads(r.read())["counts"].get(ARTICLE) == n:
                return
        time.sleep(0.2)
    raise RuntimeError("comments not approved in time")


def seed(base: str) -> None:
    settings = Settings()

    def token(sub: str, name: str, roles: tuple[str, ...] = ()) -> str:
        return mint_token(settings, sub=sub, name=name, roles=list(roles))

    path = f"/api/v1/articles/{ARTICLE}/comments"
    ids = [call(base, path, token(n.lower(), n), {"body": b})["id"] for n, b in COMMENTS]
    approved(base, len(ids))
    call(base, path, token("amina", "Amina"),
         {"body": "Agreed. Intelligence sharing has to respect our laws too.", "parent_id": ids[0]})
    approved(base, len(ids) + 1)
    moderator = token("desk", "Moderation desk", ["moderator", "editor"])
    call(base, "/api/v1/moderation/decisions", moderator,
         {"comment_ids": [ids[1]], "action": "feature"})
    blog = f"/api/v1/articles/{ARTICLE}/liveblog"
    call(base, blog, moderator, {"status": "live", "title": "Live: Duale–Austin talks"}, "PUT")
    call(base, blog + "/posts", moderator,
         {"body": "Talks at the **Pentagon** have begun, officials say."})
    call(base, blog + "/posts", moderator,
         {"body": "Both sides agree to expand maritime security co-operation.", "key_event": True})
    call(base, blog + "/posts", moderator,
         {"body": "Follow this page for updates from Washington and Nairobi.", "pinned": True})
    # From now on comments wait for a person, so the shot shows one "awaiting review".
    call(base, f"/api/v1/articles/{ARTICLE}", moderator, {"moderation": "pre"}, "PUT")


def shoot(base: str) -> None:
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        for name, reader, viewport in (("desktop", "Zawadi", {"width": 900, "height": 900}),
                                       ("phone", "Baraka", {"width": 390, "height": 844})):
            context = browser.new_context(viewport=viewport, device_scale_factor=1)
            page = context.new_page()
            page.goto(f"{base}/demo/")
            page.get_by_label("Your name (demo sign-in)").fill(reader)
            page.get_by_role("button", name="Sign in", exact=True).click()
            page.get_by_label("Write a comment").fill("Asante for the clear report.")
            page.get_by_role("button", name="Post").click()
            page.get_by_text("Awaiting review").first.wait_for()
            page.get_by_label("Write a comment").fill("Karibu")
            page.locator("[data-post-id]").nth(2).wait_for()
            comments = page.locator('[data-baraza="comments"]')
            comments.screenshot(path=str(OUT / f"thread-{name}.png"))
            page.locator('[data-baraza="liveblog"]').screenshot(
                path=str(OUT / f"liveblog-{name}.png"))
            context.close()
        browser.close()


def main() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("BARAZA_")}
        env.update(BARAZA_DATABASE_URL=f"sqlite+aiosqlite:///{tmp}/shots.db",
                   BARAZA_SCORER="fallback")
        server = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "serve", "--demo", "--port", str(port)],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(300):
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                        break
                except OSError:
                    time.sleep(0.2)
            seed(base)
            shoot(base)
        finally:
            server.terminate()
            server.wait(timeout=30)
    print("wrote", *sorted(p.name for p in OUT.glob("*.png")))


if __name__ == "__main__":
    main()
