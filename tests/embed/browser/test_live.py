"""Live updates, safety, accessibility and languages of the widget in a real browser."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.embed.browser.conftest import AXE, Stack
from tests.embed.browser.test_thread import TIMEOUT, comment

XSS_CORPUS = [
    "<script>alert('xss-1')</script>",
    "<img src=x onerror=alert('xss-2')>",
    "\"><svg onload=alert('xss-3')>",
    "<a href=\"javascript:alert('xss-4')\">click</a>",
    "https://example.org/\"onmouseover=\"alert('xss-5')",
    "<iframe srcdoc=\"<script>alert('xss-6')</script>\"></iframe>",
    "{{constructor.constructor('alert(7)')()}} ${alert(8)}",
]


def test_xss_corpus_renders_inert(stack: Stack, context: Any, article: str) -> None:
    ids = [stack.published(article, "mallory", body) for body in XSS_CORPUS]
    dialogs: list[str] = []
    page = context.new_page()
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(stack.page(article))
    for comment_id, body in zip(ids, XSS_CORPUS, strict=True):
        expect(comment(page, comment_id).locator(".bz-body")).to_contain_text(body[:20])
    mount = page.locator('[data-baraza="comments"]')
    for tag in ("script", "img", "svg", "iframe"):
        expect(mount.locator(tag)).to_have_count(0)
    hrefs = mount.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert not [h for h in hrefs if h and h.lower().startswith("javascript:")]
    handlers = mount.evaluate("m => [...m.querySelectorAll('*')].flatMap(e => "
                              "[...e.attributes].map(a => a.name)).filter(n => n.startsWith('on'))")
    assert handlers == []
    mount.locator("a").first.hover()  # an onmouseover would fire here
    assert dialogs == []


def test_count_spans_are_filled_from_one_request(stack: Stack, context: Any, article: str) -> None:
    others = [f"{article}-a", f"{article}-b", f"{article}-c"]
    for _ in range(2):
        stack.published(others[0], "amina", "Counted.")
    stack.published(others[1], "amina", "Counted once.")
    page = context.new_page()
    counts: list[str] = []
    page.on("request", lambda r: counts.append(r.url) if "/articles/counts" in r.url else None)
    page.goto(stack.page(article, mounts="counts", ids=",".join(others)))
    spans = page.locator('[data-baraza="count"]')
    expect(spans.nth(0)).to_have_text("2 comments")
    expect(spans.nth(1)).to_have_text("1 comment")
    expect(spans.nth(2)).to_have_text("0 comments")
    assert len(counts) == 1


def test_live_blog_entries_arrive_live(stack: Stack, context: Any, article: str) -> None:
    stack.call("PUT", f"/articles/{article}/liveblog", json={"status": "live",
                                                              "title": "Live: Garissa blast"})
    first = stack.call("POST", f"/articles/{article}/liveblog/posts",
                       json={"body": "Police confirm an explosion."})
    page = context.new_page()
    page.goto(stack.page(article, mounts="liveblog"))
    blog = page.locator('[data-baraza="liveblog"]')
    expect(blog.get_by_role("heading", name="Live: Garissa blast")).to_be_visible()
    expect(blog.locator(f'[data-post-id="{first["id"]}"]')).to_contain_text("Police confirm")

    second = stack.call("POST", f"/articles/{article}/liveblog/posts",
                        json={"body": "**Two** people injured.", "key_event": True})
    bar = blog.get_by_role("button", name="1 new update — show")
    expect(bar).to_be_visible(timeout=TIMEOUT)
    bar.click()
    entry = blog.locator(f'[data-post-id="{second["id"]}"]')
    expect(entry.locator("strong")).to_have_text("Two")
    expect(entry).to_contain_text("Key event")

    stack.call("PATCH", f"/liveblog/posts/{first['id']}",
               json={"body": "Police confirm a gas explosion."})
    corrected = blog.locator(f'[data-post-id="{first["id"]}"]')
    expect(corrected).to_contain_text("Police confirm a gas explosion.", timeout=TIMEOUT)
    expect(corrected).to_contain_text("corrected")

    stack.call("PATCH", f"/liveblog/posts/{second['id']}", json={"pinned": True})
    expect(blog.locator(".bz-pinned-list")).to_contain_text("Two", timeout=TIMEOUT)

    stack.call("DELETE", f"/liveblog/posts/{first['id']}")
    expect(corrected).to_have_count(0, timeout=TIMEOUT)


def test_sse_fallback_when_websocket_is_blocked(stack: Stack, context: Any, article: str) -> None:
    page = context.new_page()
    page.route_web_socket(re.compile(r".*/api/v1/live$"), lambda ws: ws.close())
    with page.expect_request(re.compile(r".*/api/v1/articles/.+/events.*"), timeout=TIMEOUT):
        page.goto(stack.page(article))
    expect(page.get_by_text("No comments yet. Be the first.")).to_be_visible()
    stack.published(article, "baraka", "Arrived over Server-Sent Events.")
    page.get_by_role("button", name="1 new comment — show").click(timeout=TIMEOUT)
    expect(page.get_by_text("Arrived over Server-Sent Events.")).to_be_visible()


def test_the_authors_outcome_arrives_over_sse_when_websocket_is_blocked(
    stack: Stack, context: Any, article: str
) -> None:
    page = context.new_page()
    page.route_web_socket(re.compile(r".*/api/v1/live$"), lambda ws: ws.close())
    with page.expect_request(re.compile(r".*/api/v1/me/events\?token=.*"), timeout=TIMEOUT):
        page.goto(stack.page(article, reader="imani"))
    page.get_by_label("Write a comment").fill("Posted behind a proxy that blocks WebSockets.")
    page.get_by_role("button", name="Post").click()
    mine = page.locator(".bz-awaiting-list [data-comment-id]")
    expect(mine).to_contain_text("Awaiting review")
    stack.decide([int(mine.get_attribute("data-comment-id") or 0)], "reject")
    expect(page.get_by_role("status").filter(has_text="Your comment was not published.")
           ).to_be_visible(timeout=TIMEOUT)


def test_an_unlisted_origin_is_refused(stack: Stack, context: Any, article: str) -> None:
    stack.published(article, "amina", "Only for listed sites.")
    page = context.new_page()
    page.goto(stack.page(article, origin=stack.unlisted))
    thread = page.locator('[data-baraza="comments"]')
    expect(thread.get_by_role("alert")).to_contain_text("Comments could not be loaded.")
    expect(page.get_by_text("Only for listed sites.")).to_have_count(0)
    outcome = page.evaluate("""api => new Promise(done => {
        const ws = new WebSocket(api.replace('http', 'ws') + '/api/v1/live');
        ws.onopen = () => done('open');
        ws.onclose = () => done('refused');
    })""", stack.api.base)
    assert outcome == "refused"


def test_the_author_is_told_of_a_rejection(stack: Stack, context: Any, article: str) -> None:
    page = context.new_page()
    page.goto(stack.page(article, reader="amina"))
    page.get_by_label("Write a comment").fill("Something the moderators will not like.")
    page.get_by_role("button", name="Post").click()
    mine = page.locator(".bz-awaiting-list [data-comment-id]")
    expect(mine).to_contain_text("Awaiting review")
    comment_id = int(mine.get_attribute("data-comment-id") or 0)
    stack.decide([comment_id], "reject")
    expect(page.get_by_role("status").filter(has_text="Your comment was not published.")
           ).to_be_visible(timeout=TIMEOUT)
    expect(page.locator(".bz-awaiting-list")).to_have_count(0)


def test_another_reader_cannot_subscribe_to_the_authors_channel(
    stack: Stack, context: Any, article: str
) -> None:
    page = context.new_page()
    page.goto(stack.page(article, reader="baraka"))
    expect(page.get_by_text("Signed in as Baraka")).to_be_visible()
    answer = page.evaluate("""async api => {
        const token = await (await fetch('/session?reader=baraka')).text();
        return await new Promise(done => {
            const ws = new WebSocket(api.replace('http', 'ws') + '/api/v1/live');
            ws.onopen = () => {
                ws.send(JSON.stringify({op: 'auth', token}));
                ws.send(JSON.stringify({op: 'subscribe', channel: 'user:amina'}));
            };
            ws.onmessage = (m) => {
                const msg = JSON.parse(m.data);
                if (msg.op === 'error' || msg.op === 'subscribed') { ws.close(); done(msg); }
            };
        });
    }""", stack.api.base)
    assert answer["op"] == "error" and answer["code"] == "forbidden"
    assert answer["channel"] == "user:amina"


def test_axe_finds_no_serious_or_critical_violation(
    stack: Stack, browser: Any, article: str
) -> None:
    first = stack.published(article, "amina", "A comment to check.")
    stack.published(article, "baraka", "A reply to check.", parent_id=first)
    stack.call("PUT", f"/articles/{article}/liveblog", json={"status": "live"})
    stack.call("POST", f"/articles/{article}/liveblog/posts",
               json={"body": "An entry.", "key_event": True})
    # The host page's CSP would refuse the injected axe script; the widget is what is checked.
    ctx = browser.new_context(bypass_csp=True)
    try:
        for reader in (None, "zawadi"):
            page = ctx.new_page()
            page.goto(stack.page(article, reader=reader))
            expect(comment(page, first)).to_be_visible()
            if reader:
                expect(page.get_by_label("Write a comment")).to_be_visible()
            expect(page.locator("[data-post-id]")).to_have_count(1)
            page.add_script_tag(path=str(AXE))
            result = page.evaluate("""() => axe.run(
                {include: [['[data-baraza]']]},
                {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})""")
            serious = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]])
                       for v in result["violations"] if v["impact"] in ("serious", "critical")]
            assert serious == [], serious
            assert result["passes"], "axe ran no checks"
            page.close()
    finally:
        ctx.close()


def test_keyboard_reaches_the_form_and_focus_is_visible(
    stack: Stack, context: Any, article: str
) -> None:
    page = context.new_page()
    page.goto(stack.page(article, reader="amina", mounts="comments"))
    box = page.get_by_label("Write a comment")
    expect(box).to_be_visible()
    for _ in range(10):
        page.keyboard.press("Tab")
        if box.evaluate("e => e === document.activeElement"):
            break
    assert box.evaluate("e => e === document.activeElement")
    page.keyboard.type("Typed from the keyboard.")
    page.keyboard.press("Tab")
    post = page.get_by_role("button", name="Post")
    assert post.evaluate("e => e === document.activeElement")
    outline = post.evaluate("e => getComputedStyle(e).outlineStyle")
    assert outline == "solid"
    page.keyboard.press("Enter")
    expect(page.locator(".bz-awaiting-list")).to_contain_text("Typed from the keyboard.")


def test_swahili_strings_render(stack: Stack, context: Any, article: str) -> None:
    stack.published(article, "amina", "Habari njema.")
    page = context.new_page()
    page.goto(stack.page(article, reader="baraka", lang="sw"))
    expect(page.get_by_role("heading", name=re.compile("^Maoni ya wasomaji"))).to_be_visible()
    expect(page.get_by_label("Andika maoni")).to_be_visible()
    expect(page.get_by_role("button", name="Tuma")).to_be_visible()
    expect(page.get_by_label("Panga maoni")).to_be_visible()
    expect(page.get_by_role("button", name="Penda")).to_be_visible()
    expect(page.locator('[data-baraza="comments"]')).to_have_attribute("lang", "sw")
