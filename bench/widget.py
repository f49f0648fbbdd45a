"""The reader widget: bundle size, and first render of a 20-comment thread in headless Chromium.

    .venv/bin/python -m bench.widget [--runs 20]

1. Size: the bundle as served (JS with its CSS inside), gzipped as the server sends it, and
   Preact's runtime (preact + preact/hooks, minified, gzipped) on its own.
2. First render: ``baraza serve --demo`` (embedded default: SQLite, in-process scoring with the
   fallback scorer) with 20 approved comments on the demo article; each run opens /demo/ in a
   new browser context (cold cache) and measures, in the page's clock, from the moment the
   widget's script finished loading (``responseEnd`` of its resource entry) to the moment the
   20th ``[data-comment-id]`` is in the DOM. That span contains the script's execution, the
   thread request and the render.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STATIC = ROOT / "server" / "static" / "embed" / "v1"
CHROMIUM = "/usr/bin/chromium"
ARTICLE = "duale-austin-security-cooperation"
OBSERVER = """
window.__barazaBench = {};
new MutationObserver(() => {
  const b = window.__barazaBench;
  if (!b.rendered && document.querySelectorAll('[data-comment-id]').length >= 20)
    b.rendered = performance.now();
}).observe(document, {subtree: true, childList: true});
"""


def sizes() -> dict[str, int]:
    manifest = json.loads((STATIC / "manifest.json").read_text())["baraza.js"]
    dist = ROOT / "widget" / "node_modules" / "preact"
    runtime = (dist / "dist" / "preact.min.js").read_bytes() + (
        dist / "hooks" / "dist" / "hooks.js").read_bytes()
    return {
        "bundle_bytes": manifest["bytes"],
        "bundle_gzip_bytes": manifest["gzip_bytes"],
        "preact_runtime_gzip_bytes": len(gzip.compress(runtime, 9)),
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _call(url: str, *, token: str | None = None, body: dict[str, str] | None = None) -> object:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = None if body is None else json.dumps(body).encode()
    with urllib.request.urlopen(urllib.request.Request(url, data=data, headers=headers),
                                timeout=10) as r:
        return json.loads(r.read() or b"null")


def seed(base: str, n: int) -> None:
    for i in range(n):
        session = _call(f"{base}/demo/session?name=Reader{i}")
        assert isinstance(session, dict)
        _call(f"{base}/api/v1/articles/{ARTICLE}/comments", token=session["token"],
              body={"body": f"Comment {i}: the security co-operation matters for Kenya."})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        counts = _call(f"{base}/api/v1/articles/counts?ids={ARTICLE}")
        if isinstance(counts, dict) and counts["counts"].get(ARTICLE) == n:
            return
        time.sleep(0.2)
    raise RuntimeError("the comments were not approved in time")


def first_render(base: str, runs: int) -> list[float]:
    from playwright.sync_api import sync_playwright

    spans = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        for _ in range(runs + 1):  # the first run warms the server, not the browser cache
            context = browser.new_context()
            page = context.new_page()
            page.add_init_script(OBSERVER)
            page.goto(f"{base}/demo/")
            page.wait_for_function("() => window.__barazaBench.rendered")
            span = page.evaluate("""() => {
                const all = performance.getEntriesByType('resource');
                const entry = all.find(e => e.name.includes('/embed/v1/baraza.js'));
                const thread = all.find(e => e.name.includes('/comments?'));
                return [window.__barazaBench.rendered - entry.responseEnd,
                        thread.startTime - entry.responseEnd,
                        thread.responseEnd - thread.startTime];
            }""")
            if os.environ.get("BENCH_VERBOSE"):
                print("render, until thread request, thread request (ms):",
                      [round(x, 1) for x in span])
            spans.append(float(span[0]))
            context.close()
        browser.close()
    return spans[1:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    print("size:", json.dumps(sizes()))
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("BARAZA_")}
        env.update(BARAZA_DATABASE_URL=f"sqlite+aiosqlite:///{tmp}/bench.db",
                   BARAZA_SCORER="fallback", BARAZA_RATE_LIMIT_ENABLED="false")
        server = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "serve", "--demo", "--port", str(port)],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                        break
                except OSError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise
                    time.sleep(0.2)
            seed(base, 20)
            spans = first_render(base, args.runs)
        finally:
            server.terminate()
            server.wait(timeout=30)
    spans.sort()
    p95 = spans[min(len(spans) - 1, round(0.95 * (len(spans) - 1)))]
    print(f"first render of 20 comments after script load, {len(spans)} cold runs: "
          f"median {statistics.median(spans):.1f} ms, p95 {p95:.1f} ms, max {spans[-1]:.1f} ms")


if __name__ == "__main__":
    main()
