"""Postgres restarted (fast) under a steady stream of posts: every answer is a 202 or a 503 with
Retry-After, never a 500, and every accepted comment is stored.

The test runs a private PostgreSQL cluster (``initdb`` + ``pg_ctl`` on a free port) so that the
shared server the other tests use is never restarted.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from server.db import upgrade
from tests.conftest import auth

pytestmark = pytest.mark.timeout(180)

POSTERS = 4


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _as_postgres(args: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root: run them as the postgres user then.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *args]
    return args


def _run(args: list[str]) -> None:
    subprocess.run(_as_postgres(args), check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def private_pg() -> Iterator[tuple[str, list[str]]]:
    """(URL of a migrated database, the pg_ctl command that restarts it) on a cluster of this
    test's own."""
    if shutil.which("initdb") is None or shutil.which("pg_ctl") is None:
        pytest.skip("initdb/pg_ctl are not installed")
    root = Path(tempfile.mkdtemp(prefix="baraza-pg-"))
    data = root / "data"
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    port = _free_port()
    _run(["initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"])
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    _run(["pg_ctl", "-D", str(data), "-o", options, "-w", "-l", str(root / "log"), "start"])
    try:
        base = f"postgresql://postgres@127.0.0.1:{port}"
        asyncio.run(_create_database(base))
        url = f"postgresql+asyncpg://postgres@127.0.0.1:{port}/baraza"
        upgrade(url)
        # -l: the postmaster writes to the log file, never to pipes pg_ctl was given.
        yield url, ["pg_ctl", "-D", str(data), "-l", str(root / "log"), "-m", "fast", "-w",
                    "restart"]
    finally:
        subprocess.run(_as_postgres(["pg_ctl", "-D", str(data), "-m", "immediate", "stop"]),
                       capture_output=True, timeout=60)
        shutil.rmtree(root, ignore_errors=True)


async def _create_database(base: str) -> None:
    conn = await asyncpg.connect(f"{base}/postgres")
    try:
        await conn.execute("CREATE DATABASE baraza")
    finally:
        await conn.close()


async def test_a_fast_restart_under_load_is_503_never_500(private_pg, make_client, make_settings,
                                                          token):
    url, restart_command = private_pg
    client = await make_client(make_settings(database_url=url, database_pool_size=POSTERS))
    answers: list[tuple[int, str | None]] = []
    accepted: list[int] = []
    restarted = asyncio.Event()

    async def poster(n: int) -> None:
        headers = auth(token(f"poster-{n}"))
        sent = 0
        # Keep posting through the restart, and a while after it.
        while not restarted.is_set() or sent < 40:
            r = await client.post(
                "/api/v1/articles/restart/comments", json={"body": f"post {n}.{sent}"},
                headers=headers,
            )
            answers.append((r.status, r.headers.get("Retry-After")))
            if r.status == 202:
                accepted.append((await r.json())["id"])
            else:
                await r.read()
            sent += 1

    async def restart() -> None:
        while len(answers) < 20:
            await asyncio.sleep(0.01)
        await asyncio.to_thread(_run, restart_command)
        restarted.set()

    await asyncio.gather(restart(), *(poster(n) for n in range(POSTERS)))
    statuses = {status for status, _ in answers}
    assert statuses <= {202, 503}, sorted(set(answers))
    assert all(after is not None for status, after in answers if status == 503)
    assert answers[-1][0] == 202  # it recovered
    conn = await asyncpg.connect(url.replace("+asyncpg", ""))
    try:
        stored = {r["id"] for r in await conn.fetch("SELECT id FROM comments")}
    finally:
        await conn.close()
    assert set(accepted) <= stored
