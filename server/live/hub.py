"""The per-process hub: local subscribers of each channel, recovery on subscribe, presence.

One broker subscription per channel that has local subscribers. Each event is encoded once
(:class:`~server.live.protocol.Frame`) and the same bytes go to every local subscriber.

Ordering and duplicates: a channel delivers events strictly in offset order. An event that
skips offsets (lost in transit, e.g. across a Redis reconnect) makes the channel read the gap from
history first; if history no longer holds it, subscribers get ``error`` ``resync`` and must refetch.
A new subscriber is added *before* its history read, buffers live events until the replay is
sent, and then drops what the replay already covered: no gap, no duplicate.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections import Counter
from collections.abc import Callable, Coroutine
from typing import Any

from server.errors import TooManyRequests, Unavailable
from server.live import metrics
from server.live.base import Event, LiveBroker, PresenceStore, Recovery
from server.live.connection import Connection
from server.live.protocol import (
    CLOSE_GOING_AWAY,
    ErrorMessage,
    Frame,
    ProtocolError,
    Subscribed,
    Unsubscribed,
    event_frame,
    presence_frame,
)
from server.settings import Settings

log = logging.getLogger(__name__)


def process_id() -> str:
    """A name for this server process in presence records."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class HubChannel:
    """One channel's local subscribers and its position in the channel's offsets."""

    __slots__ = (
        "backlog", "joining", "live", "name", "offset", "presence", "ready", "reported_local",
    )

    def __init__(self, name: str) -> None:
        self.name = name
        # Subscribers whose history is being read, with the frames that arrived meanwhile.
        self.joining: dict[Connection, list[Frame]] = {}
        # Subscribers in step with the channel: each frame is theirs exactly once, in order.
        self.live: set[Connection] = set()
        self.offset: int | None = None
        self.presence: int | None = None
        # This process's count inside ``presence`` (what it reported when that total came).
        self.reported_local = 0
        # Events held back while a gap is filled from history; None when in step.
        self.backlog: list[Event] | None = []
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def receive(self, event: Event) -> bool:
        """Deliver ``event`` in order; False when it skips offsets and history is needed."""
        if self.backlog is not None:
            self.backlog.append(event)
            return True
        if self.offset is not None and event.offset <= self.offset:
            return True
        if self.offset is not None and event.offset > self.offset + 1:
            self.backlog = [event]
            return False
        self.dispatch(event)
        return True

    @property
    def count(self) -> int:
        return len(self.live) + len(self.joining)

    def dispatch(self, event: Event) -> None:
        self.offset = event.offset
        frame = event_frame(event)
        metrics.EVENTS.inc()
        metrics.DELIVERIES.inc(len(self.live))
        for pending in self.joining.values():
            pending.append(frame)
        for conn in self.live:
            conn.send(frame)

    def broadcast(self, frame: Frame) -> None:
        for conn in self.live:
            conn.send(frame)

    def catch_up(self, recovery: Recovery) -> None:
        """Apply a history read (on opening, or for a gap), then the events held back meanwhile."""
        backlog, self.backlog = self.backlog or [], None
        if not recovery.recovered:
            if self.offset is not None:
                self._resync()
            resume = recovery.offset
            if self.offset is not None and backlog:
                # Subscribers refetch; events that arrived meanwhile still follow, in order.
                resume = min(resume, backlog[0].offset - 1)
            self.offset = resume
        for event in (*recovery.events, *backlog):
            if self.offset is None or event.offset > self.offset:
                self.dispatch(event)

    def _resync(self) -> None:
        metrics.RESYNCS.inc()
        self.broadcast(Frame(ErrorMessage(
            code="resync", channel=self.name,
            message="events were lost in transit; refetch and subscribe again",
        )))


class Hub:
    """Connections, channels and limits of this process."""

    def __init__(self, broker: LiveBroker, presence: PresenceStore, settings: Settings) -> None:
        self._broker = broker
        self._presence = presence
        self._settings = settings
        self._channels: dict[str, HubChannel] = {}
        self._connections: set[Connection] = set()
        self._per_ip: Counter[str] = Counter()
        self._tasks: set[asyncio.Task[None]] = set()
        self._presence_task: asyncio.Task[None] | None = None
        self._heartbeat_task: asyncio.Task[None] | None = None
        # Internal channels this process listens to for itself (``watch``), not for clients.
        self._watchers: dict[str, list[Callable[[Event], None]]] = {}
        # Told when a watched channel's events may have been lost (``watch``'s ``on_gap``).
        self._gap_watchers: dict[str, list[Callable[[], None]]] = {}
        self._watched_offsets: dict[str, int] = {}
        self._started = False
        self.closing = False

    # Lifecycle
    async def start(self) -> None:
        await self._broker.start(self._on_event, self._on_resync)
        self._started = True
        for name in self._watchers:
            self._spawn(self._listen_for_watchers(name), name=f"live-watch-{name}")
        self._presence_task = asyncio.create_task(self._presence_loop(), name="live-presence")
        self._heartbeat_task = asyncio.create_task(self._heartbeat_loop(), name="live-heartbeat")

    async def shutdown(self) -> None:
        """Close every connection with 1001 "going away" so clients reconnect elsewhere."""
        self.closing = True
        closes = [conn.close(CLOSE_GOING_AWAY, "server shutting down")
                  for conn in list(self._connections)]
        await asyncio.gather(*closes, return_exceptions=True)

    async def stop(self) -> None:
        """Cancel and await every task of the hub; forget this process's presence."""
        self.closing = True
        tasks = [t for t in (self._presence_task, self._heartbeat_task, *self._tasks)
                 if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        with contextlib.suppress(Exception):
            await self._presence.clear()

    async def watch(
        self,
        channel: str,
        callback: Callable[[Event], None],
        *,
        on_gap: Callable[[], None] | None = None,
    ) -> None:
        """Call ``callback`` with every event of an internal ``channel`` (e.g. ``pages``).

        ``on_gap`` is called when some of its events may never arrive: a skipped offset, or the
        broker's resync (pub/sub reconnected; on a Redis Cluster, a shard failed over).
        """
        first = channel not in self._watchers
        self._watchers.setdefault(channel, []).append(callback)
        if on_gap is not None:
            self._gap_watchers.setdefault(channel, []).append(on_gap)
        if first and self._started:
            try:
                await self._broker.listen(channel)
            except Exception:
                log.warning("could not listen to %s; retrying", channel, exc_info=True)
                self._spawn(self._listen_for_watchers(channel), name=f"live-watch-{channel}")

    async def _listen_for_watchers(self, channel: str) -> None:
        # Comments must still be taken while Redis is down: keep trying in the background.
        delay = 0.5
        while True:
            try:
                await self._broker.listen(channel)
                return
            except Exception:
                log.warning("could not listen to %s; retrying", channel, exc_info=True)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # Connections
    def admit(self, ip: str) -> None:
        """Raise 503/429 when this process or this address has too many connections."""
        if self.closing:
            raise Unavailable("server is shutting down", code="shutting_down")
        if len(self._connections) >= self._settings.live_max_connections:
            raise Unavailable("too many live connections on this server", code="live_full",
                              headers={"Retry-After": "5"})
        if self._per_ip[ip] >= self._settings.live_max_connections_per_ip:
            raise TooManyRequests("too many live connections from this address",
                                  code="live_ip_limit", headers={"Retry-After": "30"})

    def register(self, conn: Connection) -> None:
        self._connections.add(conn)
        self._per_ip[conn.ip] += 1
        metrics.CONNECTIONS.inc()

    async def unregister(self, conn: Connection) -> None:
        """Remove ``conn`` from every registry (call from the handler's ``finally``)."""
        if conn not in self._connections:
            return
        self._connections.discard(conn)
        metrics.CONNECTIONS.dec()
        self._per_ip[conn.ip] -= 1
        if self._per_ip[conn.ip] <= 0:
            del self._per_ip[conn.ip]
        for name in list(conn.channels):
            await self.unsubscribe(conn, name, quiet=True)

    def stats(self) -> dict[str, int]:
        return {"connections": len(self._connections), "channels": len(self._channels)}

    # Subscriptions
    async def subscribe(self, conn: Connection, name: str, since: int | None) -> None:
        """Add ``conn`` to ``name``; send ``subscribed`` and the replay, then live events."""
        if name in conn.channels:
            raise ProtocolError("already_subscribed", "already subscribed", channel=name)
        if len(conn.channels) >= self._settings.live_max_subscriptions:
            raise ProtocolError("too_many_subscriptions",
                                f"at most {self._settings.live_max_subscriptions} subscriptions",
                                channel=name)
        conn.channels.add(name)
        try:
            channel = await self._open(name)
            channel.joining[conn] = []
            recovery = await self._broker.recover(name, since)
        except Exception as exc:
            await self.unsubscribe(conn, name, quiet=True)
            log.warning("could not subscribe to %s", name, exc_info=True)
            raise ProtocolError("unavailable", "live updates are unavailable; retry shortly",
                                channel=name) from exc
        self._go_live(channel, conn, recovery)

    def _go_live(self, channel: HubChannel, conn: Connection, recovery: Recovery) -> None:
        name = channel.name
        # An SSE ``id`` says "all up to here received": while a replay of older events follows,
        # the frame must not carry one, or a drop during the replay would resume past it.
        position = 0 if recovery.events else recovery.offset
        conn.send(Frame(Subscribed(channel=name, offset=recovery.offset,
                                   recovered=recovery.recovered), offset=position))
        last = recovery.offset
        for event in recovery.events:
            conn.send(event_frame(event))
        for frame in channel.joining.pop(conn, ()):
            if frame.offset > last:  # what the replay covered is not sent twice
                last = frame.offset
                conn.send(frame)
        channel.live.add(conn)
        if channel.presence is not None:
            # The last total counted this process's subscribers as they were then: count the
            # newcomer (and anyone else who came or left here since) now.
            total = channel.presence - channel.reported_local + channel.count
            conn.send(presence_frame(name, max(total, channel.count)))

    async def unsubscribe(self, conn: Connection, name: str, *, quiet: bool = False) -> None:
        if name not in conn.channels:
            if quiet:
                return
            raise ProtocolError("not_subscribed", "not subscribed", channel=name)
        conn.channels.discard(name)
        channel = self._channels.get(name)
        if channel is not None:
            channel.joining.pop(conn, None)
            channel.live.discard(conn)
            if not channel.count and channel.ready.done():
                await self._close_channel(channel)
        if not quiet:
            conn.send(Frame(Unsubscribed(channel=name)))

    async def _open(self, name: str) -> HubChannel:
        while True:
            channel = self._channels.get(name)
            if channel is None:
                channel = self._channels[name] = HubChannel(name)
                metrics.CHANNELS.set(len(self._channels))
                self._spawn(self._start_channel(channel), name=f"live-open-{name}")
            await asyncio.shield(channel.ready)
            # The last subscriber may have left (closing the channel) while we waited.
            if self._channels.get(name) is channel:
                return channel

    async def _start_channel(self, channel: HubChannel) -> None:
        try:
            await self._broker.listen(channel.name)
            recovery = await self._broker.recover(channel.name, None)
        except Exception as exc:  # noqa: BLE001 - reported to every waiting subscriber
            if self._channels.get(channel.name) is channel:
                del self._channels[channel.name]
            channel.ready.set_exception(exc)
            channel.ready.exception()  # mark retrieved: waiters may all have left
            return
        channel.catch_up(recovery)
        channel.ready.set_result(None)

    async def _close_channel(self, channel: HubChannel) -> None:
        if self._channels.get(channel.name) is not channel:
            return
        del self._channels[channel.name]
        metrics.CHANNELS.set(len(self._channels))
        try:
            await self._broker.unlisten(channel.name)
        except Exception:
            log.warning("could not stop listening to %s", channel.name, exc_info=True)

    # Broker callbacks
    def _on_event(self, event: Event) -> None:
        if event.channel in self._watchers:
            self._to_watchers(event)
        channel = self._channels.get(event.channel)
        if channel is not None and not channel.receive(event):
            self._spawn(self._fill(channel), name=f"live-fill-{channel.name}")

    def _to_watchers(self, event: Event) -> None:
        last = self._watched_offsets.get(event.channel)
        if last is not None and event.offset <= last:
            return  # delivered twice (a re-subscription's overlap)
        self._watched_offsets[event.channel] = event.offset
        if last is not None and event.offset != last + 1:
            self._gap(event.channel)
        for callback in self._watchers.get(event.channel, ()):
            try:
                callback(event)
            except Exception:
                log.warning("a watcher of %s failed", event.channel, exc_info=True)

    def _gap(self, channel: str) -> None:
        for on_gap in self._gap_watchers.get(channel, ()):
            try:
                on_gap()
            except Exception:
                log.warning("a gap watcher of %s failed", channel, exc_info=True)

    def _on_resync(self) -> None:
        for name in list(self._gap_watchers):
            self._gap(name)
        for channel in list(self._channels.values()):
            if channel.backlog is None and channel.ready.done():
                channel.backlog = []
                self._spawn(self._fill(channel), name=f"live-fill-{channel.name}")

    async def _fill(self, channel: HubChannel) -> None:
        try:
            recovery = await self._broker.recover(channel.name, channel.offset)
        except Exception:
            log.warning("could not read %s's history to fill a gap", channel.name, exc_info=True)
            recovery = Recovery(offset=channel.offset or 0, recovered=False)
        channel.catch_up(recovery)

    # Heartbeat
    async def _heartbeat_loop(self) -> None:
        """Every connection is pinged once per heartbeat interval, a slice each second."""
        interval = self._settings.live_heartbeat_seconds
        slices = max(1, round(interval))
        loop = asyncio.get_running_loop()
        turn = 0
        while True:
            await asyncio.sleep(interval / slices)
            now = loop.time()
            for conn in list(self._connections)[turn::slices]:
                conn.heartbeat(now, interval / 2)
            turn = (turn + 1) % slices

    # Presence
    async def _presence_loop(self) -> None:
        while True:
            await asyncio.sleep(self._settings.presence_interval_seconds)
            try:
                await self.report_presence()
            except Exception:
                log.warning("could not report live presence", exc_info=True)

    async def report_presence(self) -> None:
        """Report local counts; push each channel's total to its subscribers when it changed."""
        counts = {name: ch.count for name, ch in self._channels.items()}
        totals = await self._presence.report(counts)
        for name, total in totals.items():
            channel = self._channels.get(name)
            if channel is None:
                continue
            channel.reported_local = counts[name]
            if channel.presence != total:
                channel.presence = total
                channel.broadcast(presence_frame(name, total))
