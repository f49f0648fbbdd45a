"""Entry bodies render to a safe subset of HTML whatever an editor (or a stolen editor token)
sends. The HTML is checked by parsing it, as a browser would, not by searching for strings."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from server.liveblog.markdown import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, LINK_REL, Renderer
from tests.liveblog.conftest import Editor

XSS_CORPUS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//xss.example/x.js></SCRIPT>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<<script>script>alert(1)<</script>/script>",
    "<img src=x onerror=alert(1)>",
    '<img """><script>alert(1)</script>">',
    "<IMG SRC=\"jav\tascript:alert('XSS');\">",
    "<body onload=alert(1)>",
    '<a href="https://example.com" onclick="alert(1)">x</a>',
    '<a href="javascript:alert(1)">x</a>',
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    '<svg><a xlink:href="javascript:alert(1)"><text x="20" y="20">X</text></a></svg>',
    '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
    '<iframe src="https://evil.example"></iframe>',
    '<object data="javascript:alert(1)"></object>',
    '<embed src="javascript:alert(1)">',
    "<style>body{background:url(javascript:alert(1))}</style>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    '<form action="javascript:alert(1)"><input type=submit></form>',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    "<!--<script>alert(1)</script>-->",
    '<img src="x',
    "<a href='x' <script>alert(1)</script>",
    "</p><script>alert(1)</script><p>",
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](javascript&colon;alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](&#x6A;&#x61;vascript:alert(1))",
    "[x](&#0000106avascript:alert(1))",
    "[x](%6Aavascript:alert(1))",
    "[x](<javascript:alert(1)>)",
    "[x](<java\tscript:alert(1)>)",
    "[x](\x01javascript:alert(1))",
    "[x]( javascript:alert(1))",
    "[x](javascript://%0aalert(1))",
    "[x][evil]\n\n[evil]: javascript:alert(1)",
    "<javascript:alert(1)>",
    "[x](vbscript:msgbox(1))",
    "[x](VBScript:msgbox(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "![x](data:image/png;base64,iVBORw0KGgo=)",
    "![x](javascript:alert(1))",
    "![x](https://img.example/a.png\" onerror=\"alert(1))",
    '[x](https://example.com "title\\" onmouseover=\\"alert(1)")',
    '[x](https://example.com"onmouseover="alert(1))',
    'https://example.com/"><script>alert(1)</script>',
    "https://example.com/<img src=x onerror=alert(1)>",
    "**<b onmouseover=alert(1)>bold</b>**",
    "`<script>alert(1)</script>`",
    "```html\n<script>alert(1)</script>\n```",
    "    <script>alert(1)</script>",
    "> <script>alert(1)</script>",
    "- <img src=x onerror=alert(1)>",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "\u0000<script>alert(1)</script>",
    "<a href=\"&#1;javascript:alert(1)\">x</a>",
]

_SAFE_SCHEMES = {"http", "https", "mailto"}
_URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "srcset"}


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, attrs))

    handle_startendtag = handle_starttag


def _scheme(url: str) -> str | None:
    # What a browser's URL parser does before reading a scheme: strip C0 controls and spaces
    # at the edges, drop tabs and newlines anywhere.
    cleaned = re.sub(r"[\t\n\r]", "", url).strip("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b"
                                                  "\x0c\x0e\x0f\x10\x11\x12\x13\x14\x15\x16"
                                                  "\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f \t\n\r")
    match = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*):", cleaned)
    return match.group(1).lower() if match else None


def assert_safe(html: str) -> None:
    parser = _Collect()
    parser.feed(html)
    parser.close()
    for tag, attrs in parser.elements:
        assert tag in ALLOWED_TAGS, (tag, html)
        allowed = ALLOWED_ATTRIBUTES.get(tag, set()) | {"rel", "class", "loading"}
        for name, value in attrs:
            assert not name.startswith("on"), (name, html)
            assert name in allowed, (tag, name, html)
            if name in _URL_ATTRIBUTES and value is not None:
                scheme = _scheme(value)
                assert scheme is None or scheme in _SAFE_SCHEMES, (value, html)
        if tag == "a":
            assert dict(attrs).get("rel") == LINK_REL, html


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer()


@pytest.mark.parametrize("source", XSS_CORPUS)
def test_xss_corpus_renders_safely(renderer: Renderer, source: str) -> None:
    assert_safe(renderer.render(source))


@pytest.mark.parametrize("source", XSS_CORPUS)
def test_xss_corpus_opens_no_other_tag(renderer: Renderer, source: str) -> None:
    """A second, parser-free look: every ``<`` left in the output opens an allowed tag
    (anything else the editor typed is escaped to ``&lt;``)."""
    html = renderer.render(source)
    for match in re.finditer(r"<\s*/?\s*([^\s>/]*)", html):
        assert match.group(1).lower() in ALLOWED_TAGS, (match.group(0), html)


def test_the_safe_subset_survives(renderer: Renderer) -> None:
    html = renderer.render(
        "# Key moment\n\n*Austin* and **Duale** met at the [Pentagon](https://defense.gov).\n\n"
        "- intelligence sharing\n- maritime security\n\n1. one\n2. two\n\n"
        "> Kenya has long been one of our most important partners\n\n"
        "![Duale and Austin](https://img.example/meeting.jpg \"At the Pentagon\")\n\n"
        "~~Tuesday~~ Wednesday, `code`"
    )
    assert_safe(html)
    assert "<h2>Key moment</h2>" in html
    assert "<em>Austin</em>" in html and "<strong>Duale</strong>" in html
    assert '<a href="https://defense.gov" rel="noopener nofollow">Pentagon</a>' in html
    assert "<li>maritime security</li>" in html and "<ol>" in html
    assert "<blockquote>" in html
    assert ('<img src="https://img.example/meeting.jpg" alt="Duale and Austin" '
            'title="At the Pentagon" loading="lazy">') in html
    assert "<s>Tuesday</s>" in html and "<code>code</code>" in html


def test_a_url_alone_on_a_line_is_an_embed_link(renderer: Renderer) -> None:
    html = renderer.render("Watch:\n\nhttps://www.youtube.com/watch?v=abc&t=1\n\nmore")
    assert (
        '<p><a href="https://www.youtube.com/watch?v=abc&amp;t=1" class="embed" '
        'rel="noopener nofollow">https://www.youtube.com/watch?v=abc&amp;t=1</a></p>'
    ) in html
    assert "<iframe" not in html


def test_raw_html_is_shown_as_text(renderer: Renderer) -> None:
    assert renderer.render("<b>bold</b>") == "<p>&lt;b&gt;bold&lt;/b&gt;</p>"


def test_data_image_urls_lose_their_source(renderer: Renderer) -> None:
    html = renderer.render("![x](data:image/png;base64,iVBORw0KGgo=)")
    assert "data:" not in html


async def test_the_api_stores_sanitised_html(
    client: TestClient[Any, Any], editor: Editor, blog: Any
) -> None:
    for source in XSS_CORPUS:
        if not source.strip("\x00 \t\n"):
            continue
        response = await client.post(
            "/api/v1/articles/kenya-us-defence-2026/liveblog/posts",
            json={"body": source}, headers=editor.headers,
        )
        assert response.status in (201, 422), await response.text()
        if response.status == 201:
            assert_safe((await response.json())["html"])
    page = await editor.read(limit=100)
    for item in page["items"]:
        assert_safe(item["html"])
