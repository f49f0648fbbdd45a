"""Sampling profiles of a running server process with py-spy, and a plain-text summary.

``with sampled(pid, path):`` records the process's Python stacks (``py-spy record --pid``,
raw collapsed-stack format, 200 samples/s, idle frames dropped) while the block runs;
``summary(path)`` prints where the samples fall: by self time per function, by inclusive time
per function, and by package (aiohttp, sqlalchemy, asyncpg, redis, server.*, …).

    python -m bench.profile bench/results/profile-post.txt      # summarise a recorded file

py-spy is on PyPI (``pip install py-spy``); it needs ptrace rights over the server (same user).
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

RATE = 200
_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^:()]*)(?::\d+)?\)$")


def py_spy() -> str:
    found = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(found).exists():
        raise RuntimeError("py-spy is not installed: pip install py-spy")
    return found


@contextmanager
def sampled(pid: int, path: Path | None) -> Iterator[None]:
    """Record ``pid``'s stacks into ``path`` while the block runs (nothing if path is None)."""
    if path is None:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [
            py_spy(),
            "record",
            "--pid",
            str(pid),
            "--format",
            "raw",
            "--rate",
            str(RATE),
            "--nonblocking",
            "--output",
            str(path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(0.5)  # let it attach
    try:
        yield
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _package(file: str) -> str:
    parts = file.replace(os.sep, "/").split("/")
    for marker in ("site-packages", "server", "workers", "bench"):
        if marker in parts:
            i = parts.index(marker)
            if marker == "site-packages":
                return parts[i + 1].removesuffix(".py") if i + 1 < len(parts) else "?"
            return "/".join(parts[i : i + 2]).removesuffix(".py")
    if "python3" in file or "lib/python" in file:
        name = parts[-2] if parts[-1] == "__init__.py" else parts[-1].removesuffix(".py")
        return f"stdlib:{name}"
    return file or "?"


def _frames(stack: str) -> list[tuple[str, str]]:
    frames = []
    for raw in stack.split(";"):
        match = _FRAME.match(raw.strip())
        if match is None:
            frames.append((raw.strip(), ""))
        else:
            frames.append((match["func"], match["file"]))
    return frames


def summary(path: Path, top: int = 25) -> str:
    """Self, inclusive and per-package shares of the samples recorded in ``path``."""
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    packages: collections.Counter[str] = collections.Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = _frames(stack)
        if not frames:
            continue
        total += count
        func, file = frames[-1]
        own[f"{func} ({_package(file)})"] += count
        packages[_package(file)] += count
        for name in {f"{f} ({_package(p)})" for f, p in frames}:
            inclusive[name] += count
    if not total:
        return f"{path}: no samples"
    lines = [f"{path}: {total} samples at {RATE}/s (~{total / RATE:.1f} s of CPU)"]
    for title, counter in (("self", own), ("inclusive", inclusive), ("package (self)", packages)):
        lines.append(f"  by {title}:")
        for name, count in counter.most_common(top):
            lines.append(f"    {100 * count / total:5.1f}%  {name}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("files", type=Path, nargs="+")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    for file in args.files:
        print(summary(file, args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
