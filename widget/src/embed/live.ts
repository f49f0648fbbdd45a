// The live connection of a page: one WebSocket shared by every mount, owning reconnects with
// backoff, each channel's last offset (recovery on reconnect) and the fallback to Server-Sent
// Events when WebSockets are blocked (one stream per channel: an article's, and the reader's
// own /me/events). Mounts see only subscribe(channel, handlers).
import type { Session } from "./session";
import type { LiveEvent, ServerMessage } from "./types";

export interface ChannelHandlers {
  event(event: LiveEvent): void;
  presence?(count: number): void;
  /** History no longer covers what was missed: refetch, the subscription continues. */
  resync?(): void;
  /** The server refused the subscription (e.g. `forbidden`). */
  refused?(code: string, message: string): void;
}

interface Channel {
  name: string;
  handlers: Set<ChannelHandlers>;
  offset: number | null;
  sse: EventSource | null;
}

const BACKOFF_MS = [500, 1000, 2000, 4000, 8000, 15000, 30000];
// Failed WebSocket opens in a row (never reaching `open`) before article channels use SSE.
const WS_FAILURES_BEFORE_SSE = 2;
const SSE_EVENTS = [
  "subscribed", "presence", "error", "comment.published", "comment.updated", "comment.removed",
  "comment.reactions", "comment.featured", "liveblog.post.published", "liveblog.post.updated",
  "liveblog.post.deleted", "liveblog.status", "reader.decided", "reader.replied", "reader.featured",
];

export type Transport = "websocket" | "sse" | "connecting";

export class Live {
  private channels = new Map<string, Channel>();
  private ws: WebSocket | null = null;
  private open = false;
  // A socket counts as working once the server has said something on it: a proxy that
  // accepts the upgrade and drops it at once is as blocked as one that refuses it.
  private healthy = false;
  private failures = 0;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  transport: Transport = "connecting";

  constructor(private readonly base: string, private readonly session: Session) {
    // A new token re-authenticates the open socket with the `auth` op: no reconnect.
    session.subscribe(() => {
      if (this.ws && this.open && session.current) this.send({ op: "auth", token: session.current });
      // An EventSource cannot change its token: the reader's own stream starts again.
      for (const channel of this.channels.values()) {
        if (channel.sse && channel.name.startsWith("user:")) {
          channel.sse.close();
          channel.sse = null;
          this.openSse(channel);
        }
      }
    });
  }

  subscribe(name: string, handlers: ChannelHandlers): () => void {
    let channel = this.channels.get(name);
    if (!channel) {
      channel = { name, handlers: new Set(), offset: null, sse: null };
      this.channels.set(name, channel);
      this.attach(channel);
    }
    channel.handlers.add(handlers);
    return () => this.release(name, handlers);
  }

  private release(name: string, handlers: ChannelHandlers): void {
    const channel = this.channels.get(name);
    if (!channel) return;
    channel.handlers.delete(handlers);
    if (channel.handlers.size) return;
    this.channels.delete(name);
    channel.sse?.close();
    if (this.open) this.send({ op: "unsubscribe", channel: name });
  }

  private attach(channel: Channel): void {
    if (this.transport === "sse") this.openSse(channel);
    else if (this.open) this.subscribeWs(channel);
    else this.connect();
  }

  // WebSocket
  private connect(): void {
    if (this.ws || this.timer || this.transport === "sse") return;
    if (typeof WebSocket === "undefined") return this.fallBack();
    const url = this.base.replace(/^http/, "ws") + "/api/v1/live";
    let ws: WebSocket;
    try {
      ws = new WebSocket(url);
    } catch {
      this.failures += 1;
      return this.failed();
    }
    this.ws = ws;
    this.healthy = false;
    ws.onopen = () => {
      this.open = true;
      this.transport = "websocket";
      // The token travels in the first message, never in the URL (URLs reach logs).
      if (this.session.current) this.send({ op: "auth", token: this.session.current });
      for (const channel of this.channels.values()) this.subscribeWs(channel);
    };
    ws.onmessage = (message) => {
      if (!this.healthy) {
        this.healthy = true;
        this.failures = 0;
        this.attempt = 0;
      }
      this.receive(String(message.data));
    };
    ws.onclose = () => {
      this.ws = null;
      this.open = false;
      if (!this.healthy) this.failures += 1;
      this.failed();
    };
  }

  private failed(): void {
    if (this.failures >= WS_FAILURES_BEFORE_SSE) return this.fallBack();
    if (!this.channels.size) return;
    const base = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
    this.attempt += 1;
    // Jitter spreads the reconnects of many pages after a server restart.
    this.timer = setTimeout(() => {
      this.timer = null;
      this.connect();
    }, base / 2 + Math.random() * base / 2);
  }

  private send(message: Record<string, unknown>): void {
    if (this.ws && this.open) this.ws.send(JSON.stringify(message));
  }

  private subscribeWs(channel: Channel): void {
    const message: Record<string, unknown> = { op: "subscribe", channel: channel.name };
    if (channel.offset !== null) message.since = channel.offset;
    this.send(message);
  }

  private receive(raw: string): void {
    let message: ServerMessage;
    try {
      message = JSON.parse(raw) as ServerMessage;
    } catch {
      return;
    }
    const channel = "channel" in message && message.channel ? this.channels.get(message.channel) : undefined;
    if (!channel) return;
    this.dispatch(channel, message);
  }

  private dispatch(channel: Channel, message: ServerMessage): void {
    switch (message.op) {
      case "subscribed":
        if (channel.offset !== null && !message.recovered) channel.handlers.forEach((h) => h.resync?.());
        channel.offset = message.offset;
        break;
      case "event":
        if (channel.offset !== null && message.offset <= channel.offset) return;
        channel.offset = message.offset;
        channel.handlers.forEach((h) => h.event(message));
        break;
      case "presence":
        channel.handlers.forEach((h) => h.presence?.(message.count));
        break;
      case "error":
        if (message.code === "resync") {
          channel.offset = null;
          channel.handlers.forEach((h) => h.resync?.());
          if (this.open) {
            this.send({ op: "unsubscribe", channel: channel.name });
            this.subscribeWs(channel);
          }
        } else {
          channel.handlers.forEach((h) => h.refused?.(message.code, message.message));
        }
        break;
      default:
        break;
    }
  }

  // Server-Sent Events: one stream per article channel; EventSource resumes with Last-Event-ID.
  private fallBack(): void {
    if (this.transport === "sse") return;
    this.transport = "sse";
    for (const channel of this.channels.values()) this.openSse(channel);
  }

  private sseUrl(channel: Channel): string | null {
    const since = channel.offset !== null ? `since=${channel.offset}` : "";
    if (channel.name.startsWith("article:")) {
      const id = encodeURIComponent(channel.name.slice("article:".length));
      return `${this.base}/api/v1/articles/${id}/events${since ? `?${since}` : ""}`;
    }
    // The reader's own channel: EventSource cannot send headers, so the token rides in the
    // query string (Baraza redacts it from every log line); only over the SSE fallback.
    const token = this.session.current;
    if (channel.name.startsWith("user:") && token) {
      return `${this.base}/api/v1/me/events?token=${encodeURIComponent(token)}${since ? `&${since}` : ""}`;
    }
    return null;
  }

  private openSse(channel: Channel): void {
    const url = this.sseUrl(channel);
    if (typeof EventSource === "undefined" || channel.sse || !url) return;
    const source = new EventSource(url);
    const onMessage = (message: MessageEvent) => {
      try {
        this.dispatch(channel, JSON.parse(String(message.data)) as ServerMessage);
      } catch {
        // a malformed block is skipped; the next event carries its own offset
      }
    };
    for (const name of SSE_EVENTS) source.addEventListener(name, onMessage as EventListener);
    channel.sse = source;
  }
}
