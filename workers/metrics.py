"""Prometheus metrics of the scoring workers (served by ``/metrics`` in the embedded mode and
on ``BARAZA_WORKER_METRICS_PORT`` by ``baraza worker``)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

BATCH_SIZE = Histogram(
    "baraza_worker_batch_size", "Jobs handled per batch",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
)
SCORING_SECONDS = Histogram(
    "baraza_worker_scoring_seconds", "Time to score one batch (word lists and model)",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
BATCH_SECONDS = Histogram(
    "baraza_worker_batch_seconds", "Time to handle one batch, from read to acknowledgement",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
DECISIONS = Counter(
    "baraza_worker_decisions_total", "Comments decided by the scoring workers", ["status"]
)
SKIPPED = Counter(
    "baraza_worker_skipped_total", "Jobs acknowledged without a decision (already decided or gone)"
)
FAILURES = Counter("baraza_worker_failures_total", "Jobs that failed and will be retried")
DEAD_LETTERS = Counter("baraza_worker_dead_letters_total", "Jobs moved to the dead-letter stream")
RECLAIMED = Counter("baraza_worker_reclaimed_total", "Stale jobs taken over from other consumers")
SWEPT = Counter("baraza_sweeper_requeued_total", "Pending comments re-enqueued by the sweeper")
NUDGES = Counter(
    "baraza_nudges_total", "Comments held for toxicity whose authors were offered one revision"
)
