"""Prometheus metrics of the live hub (per process; counted per event, not per delivery)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

CONNECTIONS = Gauge("baraza_live_connections", "Open WebSocket and SSE connections")
CHANNELS = Gauge("baraza_live_channels", "Channels with local subscribers")
EVENTS = Counter("baraza_live_events_total", "Events fanned out by this process")
DELIVERIES = Counter("baraza_live_deliveries_total", "Event messages handed to connections")
SLOW_CONSUMERS = Counter("baraza_live_slow_consumers_total", "Connections closed as too slow")
RESYNCS = Counter("baraza_live_resyncs_total", "Gaps in a channel that history could not fill")
