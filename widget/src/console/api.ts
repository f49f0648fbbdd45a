// The console's one typed client of Baraza's HTTP API (same origin, bearer token).
import type {
  AuditPage, ConsoleConfig, ConsoleSession, DeadLetterDetail, DeadLetterPage, DecisionAction,
  DecisionResponse, DraftPage, PolicyConfig, PolicyOut, Post, PostHistory, PreviewResponse,
  QueueCounts, QueueFilters, QueueItem, QueueName, QueuePage, ReasonCode, Rendered,
  ReplayResponse, StatusChange, StatusChangeResponse, Timeline, UserPage, WordlistKind,
  WordlistOut, WordTestResponse, LiveBlog,
} from "./types";

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

type Method = "GET" | "POST" | "PATCH" | "PUT" | "DELETE";
const enc = encodeURIComponent;

function query(params: Record<string, string | number | undefined>): string {
  const parts = Object.entries(params)
    .filter(([, v]) => v !== undefined && v !== "")
    .map(([k, v]) => `${enc(k)}=${enc(String(v))}`);
  return parts.length ? `?${parts.join("&")}` : "";
}

export class Api {
  /** Called when the server answers 401: the token expired or was revoked. */
  onUnauthorized: () => void = () => {};

  constructor(private token: string) {}

  private async request<T>(method: Method, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = {
      Accept: "application/json", Authorization: `Bearer ${this.token}`,
    };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response: Response;
    try {
      response = await fetch(`/api/v1${path}`, {
        method, headers, body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "omit",
      });
    } catch {
      throw new ApiError(0, "network", "The server cannot be reached.");
    }
    if (response.status === 204) return undefined as T;
    let data: unknown = null;
    try {
      data = await response.json();
    } catch {
      data = null;
    }
    if (!response.ok) {
      const error = (data as { error?: { code?: string; message?: string } } | null)?.error;
      if (response.status === 401) this.onUnauthorized();
      throw new ApiError(response.status, error?.code ?? "error", error?.message ?? response.statusText);
    }
    return data as T;
  }

  // Sign-in
  static async config(): Promise<ConsoleConfig> {
    const r = await fetch("/api/v1/console/config", { credentials: "omit" });
    return (await r.json()) as ConsoleConfig;
  }
  session(): Promise<ConsoleSession> { return this.request("GET", "/console/session"); }

  // Queues and decisions
  counts(): Promise<QueueCounts> { return this.request("GET", "/moderation/queues"); }
  queue(name: QueueName, filters: QueueFilters, cursor?: string, limit = 100): Promise<QueuePage> {
    return this.request("GET", `/moderation/queues/${name}${query({ ...filters, cursor, limit })}`);
  }
  decide(
    ids: number[], action: DecisionAction, opts: { reason?: ReasonCode; note?: string; queue?: QueueName } = {},
  ): Promise<DecisionResponse> {
    return this.request("POST", "/moderation/decisions", { comment_ids: ids, action, ...opts });
  }
  comment(id: number): Promise<QueueItem> { return this.request("GET", `/moderation/comments/${id}`); }
  commentHistory(id: number): Promise<AuditPage> {
    return this.request("GET", `/moderation/comments/${id}/history?limit=200`);
  }

  // Users
  user(id: string): Promise<UserPage> { return this.request("GET", `/moderation/users/${enc(id)}`); }
  userHistory(id: string): Promise<AuditPage> {
    return this.request("GET", `/moderation/users/${enc(id)}/history?limit=100`);
  }
  setStatus(id: string, change: StatusChange): Promise<StatusChangeResponse> {
    return this.request("POST", `/moderation/users/${enc(id)}/status`, change);
  }

  // Dead letters
  deadLetters(cursor?: string): Promise<DeadLetterPage> {
    return this.request("GET", `/moderation/deadletters${query({ cursor, limit: 100 })}`);
  }
  deadLetter(id: number): Promise<DeadLetterDetail> { return this.request("GET", `/moderation/deadletters/${id}`); }
  replay(ids: number[]): Promise<ReplayResponse> {
    return this.request("POST", "/moderation/deadletters/replay", { comment_ids: ids });
  }

  // Policy and word lists (admins)
  policy(): Promise<PolicyOut> { return this.request("GET", "/moderation/policy"); }
  savePolicy(config: PolicyConfig, reason: string): Promise<PolicyOut> {
    return this.request("PUT", "/moderation/policy", { ...config, reason: reason || undefined });
  }
  preview(config: PolicyConfig | null, limit: number): Promise<PreviewResponse> {
    return this.request("POST", "/moderation/policy/preview", config ? { config, limit } : { limit });
  }
  applyPolicy(limit: number): Promise<PreviewResponse> {
    return this.request("POST", "/moderation/policy/apply", { limit });
  }
  wordlist(kind: WordlistKind): Promise<WordlistOut> { return this.request("GET", `/moderation/wordlists/${kind}`); }
  saveWordlist(kind: WordlistKind, words: string[]): Promise<WordlistOut> {
    return this.request("PUT", `/moderation/wordlists/${kind}`, { words });
  }
  testWords(text: string, banned: string[], suspect: string[]): Promise<WordTestResponse> {
    return this.request("POST", "/moderation/wordlists/test", { text, banned, suspect });
  }

  // Live blog (editors)
  timeline(articleId: string): Promise<Timeline> {
    return this.request("GET", `/articles/${enc(articleId)}/liveblog?limit=50`);
  }
  putBlog(articleId: string, change: { title?: string; status?: "live" | "ended" }): Promise<LiveBlog> {
    return this.request("PUT", `/articles/${enc(articleId)}/liveblog`, change);
  }
  drafts(articleId: string): Promise<DraftPage> {
    return this.request("GET", `/articles/${enc(articleId)}/liveblog/drafts`);
  }
  createPost(articleId: string, post: { body: string; key_event: boolean; pinned: boolean; draft: boolean }): Promise<Post> {
    return this.request("POST", `/articles/${enc(articleId)}/liveblog/posts`, post);
  }
  editPost(id: number, change: { body?: string; key_event?: boolean; pinned?: boolean }): Promise<Post> {
    return this.request("PATCH", `/liveblog/posts/${id}`, change);
  }
  publishPost(id: number): Promise<Post> { return this.request("POST", `/liveblog/posts/${id}/publish`); }
  deletePost(id: number): Promise<void> { return this.request("DELETE", `/liveblog/posts/${id}`); }
  postHistory(id: number): Promise<PostHistory> { return this.request("GET", `/liveblog/posts/${id}/history`); }
  render(body: string): Promise<Rendered> { return this.request("POST", "/liveblog/preview", { body }); }
}
