// The reader's token, as the host page hands it over (Baraza.setToken / onTokenExpired).
// The claims are read only to show the reader's name and to refresh before `exp`: the server
// verifies the signature on every request.

export interface Reader {
  sub: string;
  name: string;
  exp: number | null;
}

type Refresher = () => Promise<string | null | undefined> | string | null | undefined;
type Listener = (reader: Reader | null) => void;

const REFRESH_BEFORE_SECONDS = 60;

function decodeClaims(token: string): Reader | null {
  const part = token.split(".")[1];
  if (!part) return null;
  try {
    const json = atob(part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "="));
    const bytes = Uint8Array.from(json, (c) => c.charCodeAt(0));
    const claims = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
    if (typeof claims.sub !== "string") return null;
    return {
      sub: claims.sub,
      name: typeof claims.name === "string" ? claims.name : claims.sub,
      exp: typeof claims.exp === "number" ? claims.exp : null,
    };
  } catch {
    return null;
  }
}

export class Session {
  private token: string | null = null;
  private refresher: Refresher | null = null;
  private refreshing: Promise<string | null> | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private listeners = new Set<Listener>();
  reader: Reader | null = null;

  get current(): string | null {
    return this.token;
  }

  setToken(token: string | null | undefined): void {
    const next = token || null;
    const reader = next ? decodeClaims(next) : null;
    this.token = reader ? next : null;
    this.reader = reader;
    this.schedule();
    for (const listener of this.listeners) listener(reader);
  }

  onTokenExpired(fn: Refresher): void {
    this.refresher = fn;
    this.schedule();
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Ask the host for a new token (on a 401, or shortly before `exp`); one request at a time. */
  refresh(): Promise<string | null> {
    if (!this.refresher) return Promise.resolve(null);
    if (!this.refreshing) {
      const fn = this.refresher;
      this.refreshing = (async () => {
        try {
          const token = await fn();
          this.setToken(token || null);
          return this.token;
        } catch {
          return null;
        } finally {
          this.refreshing = null;
        }
      })();
    }
    return this.refreshing;
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const exp = this.reader?.exp;
    if (!exp || !this.refresher) return;
    const wait = Math.max(0, (exp - REFRESH_BEFORE_SECONDS) * 1000 - Date.now());
    // setTimeout cannot wait more than 2^31 ms; a token that long-lived needs no refresh here.
    if (wait < 2 ** 31 - 1) this.timer = setTimeout(() => void this.refresh(), wait);
  }
}
