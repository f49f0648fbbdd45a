"""A small closed-loop HTTP load generator: fixed concurrency, keep-alive, one aiohttp session.

Each of ``concurrency`` workers sends a request, reads the whole response, and sends the next,
for ``duration`` seconds (or until ``count`` requests are done). Workers are spread round-robin
over the given base URLs, so two server processes on two ports share the load evenly.

It reports requests/s, p50/p99 latency, errors, and its own CPU time, so a reader can see
whether the client, rather than the server, was the limit. With ``processes > 1`` the load is
split over that many client processes and their figures merged.

    python -m bench.http_load http://127.0.0.1:8080/api/v1/articles/a/comments -c 64 -d 10
"""

from __future__ import annotations

import argparse
import asyncio
import math
import multiprocessing
import resource
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import aiohttp


@dataclass(frozen=True)
class LoadSpec:
    """What to send. Request ``i`` uses ``bodies[i % len]`` and ``headers[i % len]``."""

    method: str
    urls: tuple[str, ...]
    bodies: tuple[bytes, ...] = ()
    headers: tuple[dict[str, str], ...] = ()
    ok_statuses: frozenset[int] = frozenset({200})


@dataclass
class LoadResult:
    requests: int = 0
    errors: int = 0
    wall_seconds: float = 0.0
    client_cpu_seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    error_samples: list[str] = field(default_factory=list)
    processes: int = 1

    @property
    def rps(self) -> float:
        return self.requests / self.wall_seconds if self.wall_seconds else 0.0

    def percentile(self, q: float) -> float:
        """Latency in seconds at quantile ``q`` (nearest rank)."""
        if not self.latencies:
            return math.nan
        ordered = sorted(self.latencies)
        rank = max(1, math.ceil(q * len(ordered)))
        return ordered[rank - 1]

    @property
    def client_cpu_share(self) -> float:
        """Client CPU as a fraction of one core over the run (1.0 = one core saturated)."""
        return self.client_cpu_seconds / self.wall_seconds if self.wall_seconds else 0.0

    def summary(self) -> str:
        return (
            f"{self.rps:9.1f} req/s  p50 {self.percentile(0.5) * 1000:7.2f} ms  "
            f"p99 {self.percentile(0.99) * 1000:7.2f} ms  errors {self.errors}  "
            f"({self.requests} requests in {self.wall_seconds:.1f} s; client CPU "
            f"{self.client_cpu_seconds:.1f} s = {self.client_cpu_share:.0%} of a core, "
            f"{self.processes} process{'es' if self.processes > 1 else ''})"
        )


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _worker(
    session: aiohttp.ClientSession,
    spec: LoadSpec,
    url: str,
    first: int,
    step: int,
    deadline: float,
    limit: int | None,
    result: LoadResult,
) -> None:
    i = first
    while (limit is None or i < limit) and time.perf_counter() < deadline:
        body = spec.bodies[i % len(spec.bodies)] if spec.bodies else None
        headers = spec.headers[i % len(spec.headers)] if spec.headers else None
        started = time.perf_counter()
        try:
            async with session.request(spec.method, url, data=body, headers=headers) as resp:
                await resp.read()
                status = resp.status
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            status, problem = -1, repr(exc)
        else:
            problem = f"HTTP {status}"
        result.latencies.append(time.perf_counter() - started)
        result.requests += 1
        if status not in spec.ok_statuses:
            result.errors += 1
            if len(result.error_samples) < 5:
                result.error_samples.append(problem)
        i += step


async def _run(
    spec: LoadSpec, workers: Sequence[int], total: int, duration: float, count: int | None
) -> LoadResult:
    result = LoadResult()
    connector = aiohttp.TCPConnector(limit=0, limit_per_host=0, ttl_dns_cache=None)
    # Generous: Isso answers a page in seconds once 64 requests queue before it.
    timeout = aiohttp.ClientTimeout(total=180)
    async with aiohttp.ClientSession(
        connector=connector, timeout=timeout, auto_decompress=False
    ) as session:
        cpu0, wall0 = _cpu_seconds(), time.perf_counter()
        deadline = wall0 + duration
        tasks = []
        for w in workers:
            url = spec.urls[w % len(spec.urls)]
            # Worker w of N takes requests w, w+N, w+2N... so a count bound is exact.
            tasks.append(asyncio.create_task(
                _worker(session, spec, url, w, total, deadline, count, result)
            ))
        await asyncio.gather(*tasks)
        result.wall_seconds = time.perf_counter() - wall0
        result.client_cpu_seconds = _cpu_seconds() - cpu0
    return result


def _new_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:  # pragma: no cover
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def _run_in_process(
    spec: LoadSpec, workers: Sequence[int], total: int, duration: float, count: int | None
) -> LoadResult:
    with asyncio.Runner(loop_factory=_new_loop) as runner:
        return runner.run(_run(spec, workers, total, duration, count))


def _merge(parts: Sequence[LoadResult]) -> LoadResult:
    merged = LoadResult(processes=len(parts))
    for part in parts:
        merged.requests += part.requests
        merged.errors += part.errors
        merged.client_cpu_seconds += part.client_cpu_seconds
        merged.latencies.extend(part.latencies)
        merged.error_samples.extend(part.error_samples[: 5 - len(merged.error_samples)])
    merged.wall_seconds = max(part.wall_seconds for part in parts)
    return merged


def run_load(
    spec: LoadSpec,
    *,
    concurrency: int,
    duration: float,
    count: int | None = None,
    processes: int = 1,
) -> LoadResult:
    """Run the load and return merged figures (blocking; call outside an event loop)."""
    processes = max(1, min(processes, concurrency))
    if processes == 1:
        return _run_in_process(spec, range(concurrency), concurrency, duration, count)
    # Process p runs workers p, p+P, p+2P...: URLs and request numbers stay interleaved.
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(processes) as pool:
        parts = pool.starmap(
            _run_in_process,
            [(spec, range(p, concurrency, processes), concurrency, duration, count)
             for p in range(processes)],
        )
    return _merge(parts)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.http_load", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url", nargs="+", help="one or more URLs; workers spread over them")
    parser.add_argument("-m", "--method", default="GET")
    parser.add_argument("-c", "--concurrency", type=int, default=16)
    parser.add_argument("-d", "--duration", type=float, default=10.0, help="seconds")
    parser.add_argument("-n", "--count", type=int, default=None, help="stop after N requests")
    parser.add_argument("-p", "--processes", type=int, default=1, help="client processes")
    parser.add_argument("-b", "--body", default=None, help="request body (sent as is)")
    parser.add_argument("-H", "--header", action="append", default=[], help="'Name: value'")
    parser.add_argument("--ok", default="200", help="comma-separated statuses counted as success")
    args = parser.parse_args(argv)
    headers = dict(h.split(":", 1) for h in args.header)
    spec = LoadSpec(
        method=args.method.upper(),
        urls=tuple(args.url),
        bodies=(args.body.encode(),) if args.body is not None else (),
        headers=({k.strip(): v.strip() for k, v in headers.items()},) if headers else (),
        ok_statuses=frozenset(int(s) for s in args.ok.split(",")),
    )
    result = run_load(spec, concurrency=args.concurrency, duration=args.duration,
                      count=args.count, processes=args.processes)
    print(result.summary())
    for sample in result.error_samples:
        print(f"  error: {sample}", file=sys.stderr)
    return 0 if result.errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
