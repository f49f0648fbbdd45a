"""Keyboard-only use of every page: Tab reaches every control in reading order with a visible
focus, nothing traps the focus, dialogs keep it inside and Escape closes them."""

from __future__ import annotations

from typing import Any

from tests.console.test_console_browser import held, item, open_console

# What has the focus, and whether a person can see it (an outline, or the item's own ring).
FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  const box = el.getBoundingClientRect();
  const ring = (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0)
    || (el.classList.contains('item') && el.classList.contains('focused'));
  const name = (el.getAttribute('aria-label') || el.labels?.[0]?.textContent
    || el.textContent || '').trim().slice(0, 40);
  return {tag: el.tagName.toLowerCase(), name, ring, shown: box.width > 0 && box.height > 0,
          inDialog: !!el.closest('[role=dialog]')};
}"""


async def tab_through(page: Any, limit: int = 80) -> list[dict[str, Any]]:
    """Tab from the top until the focus comes round again; every stop as FOCUSED sees it."""
    # Start from the top: the console's title (focusable by script only) is before everything.
    await page.evaluate("(h => { h.tabIndex = -1; h.focus(); })(document.querySelector('h1'))")
    stops: list[dict[str, Any]] = []
    for _ in range(limit):
        await page.keyboard.press("Tab")
        now = await page.evaluate(FOCUSED)
        if now is None:  # past the last control: the browser's own chrome
            break
        if stops and now == stops[0]:
            break
        stops.append(now)
    return stops


def unseen(stops: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [s for s in stops if not (s["ring"] and s["shown"])]


async def test_every_page_by_keyboard(site, new_page):
    ids = [await held(site, f"Held for the keyboard test {n}.", risk=0.9 - n / 10)
           for n in range(2)]
    for width in (1280, 390):
        page = await new_page(width, 844)
        await open_console(page, site, sub="admin-k", roles=["admin", "editor"])
        await item(page, ids[1]).wait_for()
        routes = {  # each with what shows it has loaded
            "queue": (None, None), "user": ("#/user/reader-1", "Reason (required)"),
            "deadletters": ("#/deadletters", "Replay selected"),
            "policy": ("#/policy", "Why (audit log)"), "words": ("#/words", "Banned (reject)"),
            "desk": ("#/desk/kbd-blog", "Open live blog"),
        }
        for name, (route, ready) in routes.items():
            if route:
                await page.goto(f"{site.url}/console/{route}")
                await page.get_by_text(ready).first.wait_for()
            stops = await tab_through(page)
            assert len(stops) >= 5, (width, name, stops)
            assert unseen(stops) == [], (width, name, unseen(stops))
            names = [s["name"] for s in stops]
            assert names[:2] == ["Queues", "Dead letters"], (width, name, names)
            assert "Sign out" in names, (width, name, names)
        await page.context.close()


async def test_dialogs_keep_the_focus_and_close_on_escape(site, page):
    ids = [await held(site, f"Dialog test {n}.", risk=0.9 - n / 10) for n in range(2)]
    await open_console(page, site)
    await item(page, ids[1]).wait_for()
    for key, label in (("r", "Reason for rejecting"), ("?", "Keyboard shortcuts"),
                       ("h", f"Audit timeline {ids[0]}")):
        await page.keyboard.press(key)
        dialog = page.get_by_role("dialog", name=label)
        await dialog.wait_for()
        for shift in ("", "Shift+"):
            for _ in range(12):  # more than the controls in any dialog: round and round
                await page.keyboard.press(f"{shift}Tab")
                now = await page.evaluate(FOCUSED)
                assert now is not None and now["inDialog"], (label, now)
                assert now["ring"], (label, now)
        await page.keyboard.press("Escape")
        await dialog.wait_for(state="detached")
        # The focus goes back to the item, and the keys work again at once.
        back = await page.evaluate("document.activeElement.outerHTML.slice(0, 200)")
        assert f'data-comment-id="{ids[0]}"' in back, (label, back)
    await page.keyboard.press("j")
    assert await page.evaluate("document.activeElement.dataset.commentId") == str(ids[1])
