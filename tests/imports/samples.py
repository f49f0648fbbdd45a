"""Sample export files, written by the tests (replies, deleted, pending, spam, odd Unicode)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

ODD = "Ḽơᶉëᶆ 🇰🇪 مرحبا שלום e\u0301 zero\u200bwidth"

DISQUS = f"""<?xml version="1.0" encoding="utf-8"?>
<disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals"
        xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <category dsq:id="1"><forum>paper</forum><title>General</title>
    <isDefault>true</isDefault></category>
  <thread dsq:id="100">
    <id>story-1</id><forum>paper</forum><category dsq:id="1"/>
    <link>https://paper.example/story-1</link><title>Security co-operation</title>
    <createdAt>2019-03-01T08:00:00Z</createdAt><isClosed>false</isClosed><isDeleted>false</isDeleted>
  </thread>
  <thread dsq:id="200">
    <id>https://paper.example/news/a b?x=1</id><forum>paper</forum>
    <link>https://paper.example/news/ab</link><title>Gas explosion</title>
    <createdAt>2019-03-02T08:00:00Z</createdAt>
  </thread>
  <post dsq:id="1003">
    <message><![CDATA[<p>A reply that came <b>before</b> its parent</p>]]></message>
    <createdAt>2019-03-01T10:00:00Z</createdAt><isDeleted>false</isDeleted><isSpam>false</isSpam>
    <author><name>Bob</name><username>bob</username><isAnonymous>false</isAnonymous></author>
    <thread dsq:id="100"/><parent dsq:id="1002"/>
  </post>
  <post dsq:id="1001">
    <message><![CDATA[<p>First paragraph &amp; more.</p><p>Second<br>line <a href="https://x.example/r">link</a></p>]]></message>
    <createdAt>2019-03-01T09:00:00Z</createdAt><isDeleted>false</isDeleted><isSpam>false</isSpam>
    <author><email>alice@example.com</email><name>Alice</name><username>alice</username>
      <isAnonymous>false</isAnonymous></author>
    <thread dsq:id="100"/>
  </post>
  <post dsq:id="1002">
    <message><![CDATA[<p>{ODD}</p>]]></message>
    <createdAt>2019-03-01T09:30:00Z</createdAt><isDeleted>false</isDeleted><isSpam>false</isSpam>
    <author><email>guest@example.com</email><name>Guest Ünïcødé</name>
      <isAnonymous>true</isAnonymous></author>
    <thread dsq:id="100"/><parent dsq:id="1001"/>
  </post>
  <post dsq:id="1004">
    <message><![CDATA[<p>Deleted, but it has a reply</p>]]></message>
    <createdAt>2019-03-01T11:00:00Z</createdAt><isDeleted>true</isDeleted><isSpam>false</isSpam>
    <author><name>Alice</name><username>alice</username></author>
    <thread dsq:id="100"/>
  </post>
  <post dsq:id="1005">
    <message><![CDATA[Reply to the deleted one]]></message>
    <createdAt>2019-03-01T11:30:00Z</createdAt><isDeleted>false</isDeleted><isSpam>false</isSpam>
    <author><name>Bob</name><username>bob</username></author>
    <thread dsq:id="100"/><parent dsq:id="1004"/>
  </post>
  <post dsq:id="1006">
    <message><![CDATA[Buy cheap watches]]></message>
    <createdAt>2019-03-02T09:00:00Z</createdAt><isDeleted>false</isDeleted><isSpam>true</isSpam>
    <author><name>Spammer</name><username>spam</username></author>
    <thread dsq:id="200"/>
  </post>
  <post dsq:id="1007">
    <message><![CDATA[Awaiting approval]]></message>
    <createdAt>2019-03-02T09:10:00Z</createdAt><isApproved>false</isApproved>
    <isDeleted>false</isDeleted><isSpam>false</isSpam>
    <author><name>Carol</name><username>carol</username></author>
    <thread dsq:id="200"/>
  </post>
  <post dsq:id="1008">
    <message><![CDATA[Of a thread nobody exported]]></message>
    <createdAt>2019-03-02T09:20:00Z</createdAt>
    <author><name>Dan</name><username>dan</username></author>
    <thread dsq:id="999"/>
  </post>
  <post dsq:id="1009">
    <message><![CDATA[Reply to a ghost]]></message>
    <createdAt>2019-03-02T09:30:00Z</createdAt>
    <author><name>Dan</name><username>dan</username></author>
    <thread dsq:id="200"/><parent dsq:id="4242"/>
  </post>
  <post dsq:id="1010">
    <message><![CDATA[   ]]></message>
    <createdAt>2019-03-02T09:40:00Z</createdAt>
    <author><name>Dan</name><username>dan</username></author>
    <thread dsq:id="200"/>
  </post>
</disqus>
"""

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals">
  <thread dsq:id="1"><id>t</id></thread>
  <post dsq:id="2"><message>&lol9;</message><createdAt>2019-01-01T00:00:00Z</createdAt>
    <thread dsq:id="1"/></post>
</disqus>
"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE foo [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>
<rss><channel><item><wp:comment xmlns:wp="http://wordpress.org/export/1.2/">
<wp:comment_content>&xxe;</wp:comment_content></wp:comment></item></channel></rss>
"""


def _wp_comment(
    cid: int,
    content: str,
    approved: str,
    *,
    parent: int = 0,
    kind: str = "",
    author: str = "Wanjiru",
    email: str = "w@example.com",
    user: int = 0,
    date: str = "2020-05-01 10:00:00",
) -> str:
    return f"""
    <wp:comment>
      <wp:comment_id>{cid}</wp:comment_id>
      <wp:comment_author><![CDATA[{author}]]></wp:comment_author>
      <wp:comment_author_email><![CDATA[{email}]]></wp:comment_author_email>
      <wp:comment_author_url>https://blog.example</wp:comment_author_url>
      <wp:comment_date><![CDATA[{date}]]></wp:comment_date>
      <wp:comment_date_gmt><![CDATA[{date}]]></wp:comment_date_gmt>
      <wp:comment_content><![CDATA[{content}]]></wp:comment_content>
      <wp:comment_approved><![CDATA[{approved}]]></wp:comment_approved>
      <wp:comment_type><![CDATA[{kind}]]></wp:comment_type>
      <wp:comment_parent>{parent}</wp:comment_parent>
      <wp:comment_user_id>{user}</wp:comment_user_id>
    </wp:comment>"""


WORDPRESS = f"""<?xml version="1.0" encoding="UTF-8" ?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
     xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.2/">
<channel>
  <title>The Paper</title><link>https://paper.example</link>
  <item>
    <title>Talks in Mogadishu</title><link>https://paper.example/talks</link>
    <wp:post_id>42</wp:post_id><wp:post_name><![CDATA[talks-in-mogadishu]]></wp:post_name>
    {_wp_comment(1, "Top comment<br />with a break", "1", user=7)}
    {_wp_comment(2, "Reply: " + ODD, "1", parent=1, date="2020-05-01 11:00:00")}
    {_wp_comment(3, "Held for moderation", "0", date="2020-05-01 12:00:00")}
    {_wp_comment(4, "Spam spam", "spam")}
    {_wp_comment(5, "In the bin", "trash")}
    {_wp_comment(6, "Linked from elsewhere", "1", kind="pingback")}
    {_wp_comment(7, "Reply to a pingback", "1", parent=6)}
  </item>
  <item>
    <title>Second post</title><link>https://paper.example/?p=43</link>
    <wp:post_id>43</wp:post_id><wp:post_name></wp:post_name>
    {_wp_comment(1, "Same id, other post", "1", author="Amina", email="a@example.com")}
  </item>
</channel>
</rss>
"""

ISSO_SCHEMA = """
CREATE TABLE threads (id INTEGER PRIMARY KEY, uri VARCHAR(256) UNIQUE, title VARCHAR(256));
CREATE TABLE comments (
    tid REFERENCES threads(id), id INTEGER PRIMARY KEY, parent INTEGER,
    created FLOAT NOT NULL, modified FLOAT, mode INTEGER, remote_addr VARCHAR,
    text VARCHAR, author VARCHAR, email VARCHAR, website VARCHAR,
    likes INTEGER DEFAULT 0, dislikes INTEGER DEFAULT 0, voters BLOB NOT NULL,
    notification INTEGER DEFAULT 0);
"""


def write_isso(path: Path) -> None:
    db = sqlite3.connect(path)
    db.executescript(ISSO_SCHEMA)
    db.execute("INSERT INTO threads VALUES (1, '/2021/story-3/', 'Story three')")
    rows = [
        (1, 1, None, 1609459200.0, 1, "Published *markdown*", "Halima", "h@example.com"),
        (1, 2, 1, 1609462800.5, 1, "Reply with " + ODD, None, None),
        (1, 3, None, 1609466400.0, 2, "Waiting for a moderator", "Omar", ""),
        (1, 4, None, 1609470000.0, 4, "", "Omar", ""),
        (1, 5, 4, 1609473600.0, 1, "Reply to a deleted one", "Halima", "h@example.com"),
        (9, 6, None, 1609477200.0, 1, "Thread gone", "X", ""),
    ]
    db.executemany(
        "INSERT INTO comments (tid, id, parent, created, mode, text, author, email, voters)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, x'')",
        rows,
    )
    db.commit()
    db.close()
