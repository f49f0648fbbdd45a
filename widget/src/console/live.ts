// The console's live connection: one WebSocket, authenticated with the staff token, owning
// reconnects with backoff and each channel's last offset (what was missed is replayed).
import type { LiveEvent } from "./types";

export interface Listener {
  event?(event: LiveEvent): void;
  presence?(count: number): void;
  /** The server could not replay what was missed: refetch. */
  resync?(): void;
}

const BACKOFF_MS = [300, 1000, 2000, 5000, 10000];

export type LiveState = "connecting" | "open" | "closed";

export class ConsoleLive {
  private ws: WebSocket | null = null;
  private open = false;
  private attempt = 0;
  private stopped = false;
  private offsets = new Map<string, number | null>();
  private listeners = new Map<string, Set<Listener>>();
  private stateListeners = new Set<(state: LiveState) => void>();
  state: LiveState = "connecting";

  constructor(private readonly token: string) {}

  subscribe(channel: string, listener: Listener): () => void {
    let set = this.listeners.get(channel);
    if (!set) {
      set = new Set();
      this.listeners.set(channel, set);
      this.offsets.set(channel, null);
      if (this.open) this.send({ op: "subscribe", channel });
      else this.connect();
    }
    set.add(listener);
    return () => {
      const current = this.listeners.get(channel);
      if (!current) return;
      current.delete(listener);
      if (current.size) return;
      this.listeners.delete(channel);
      this.offsets.delete(channel);
      if (this.open) this.send({ op: "unsubscribe", channel });
    };
  }

  onState(fn: (state: LiveState) => void): () => void {
    this.stateListeners.add(fn);
    return () => this.stateListeners.delete(fn);
  }

  close(): void {
    this.stopped = true;
    this.ws?.close();
  }

  private setState(state: LiveState): void {
    this.state = state;
    this.stateListeners.forEach((fn) => fn(state));
  }

  private send(message: Record<string, unknown>): void {
    this.ws?.send(JSON.stringify(message));
  }

  private connect(): void {
    if (this.ws || this.stopped) return;
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${scheme}//${location.host}/api/v1/live`);
    this.ws = ws;
    this.setState("connecting");
    ws.onopen = () => {
      this.open = true;
      this.attempt = 0;
      this.send({ op: "auth", token: this.token });
      for (const [channel, offset] of this.offsets) {
        this.send(offset === null ? { op: "subscribe", channel } : { op: "subscribe", channel, since: offset });
      }
      this.setState("open");
    };
    ws.onmessage = (message) => this.receive(String(message.data));
    ws.onclose = () => {
      this.ws = null;
      this.open = false;
      this.setState("closed");
      if (this.stopped || !this.listeners.size) return;
      const delay = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
      this.attempt += 1;
      setTimeout(() => this.connect(), delay);
    };
  }

  private receive(raw: string): void {
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      return;
    }
    const channel = typeof message.channel === "string" ? message.channel : "";
    const listeners = this.listeners.get(channel);
    if (!listeners) return;
    if (message.op === "subscribed") {
      const known = this.offsets.get(channel);
      this.offsets.set(channel, Number(message.offset));
      if (known !== null && known !== undefined && message.recovered === false) {
        listeners.forEach((l) => l.resync?.());
      }
    } else if (message.op === "event") {
      const event = message as unknown as LiveEvent;
      this.offsets.set(channel, event.offset);
      listeners.forEach((l) => l.event?.(event));
    } else if (message.op === "presence") {
      listeners.forEach((l) => l.presence?.(Number(message.count)));
    }
  }
}
