"""Bringing archives in: Disqus and WordPress (WXR) XML exports and Isso databases.

Parsers stream (``iterparse`` with processed elements cleared, an SQLite cursor), refuse DTDs
and entities (a billion-laughs file fails before expanding anything) and yield ``SourceComment``
records; ``writer`` stores them in batches, idempotently (source ids are kept in
``imported_comments``), keeping threads and timestamps.
"""
