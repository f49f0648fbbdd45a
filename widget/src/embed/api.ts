// The one typed client of Baraza's HTTP API. A 401 asks the host for a new token once.
import type { Session } from "./session";
import type {
  Article, Comment, LiveBlogPage, ReactionCounts, ReactionKind, RepliesPage, ReportReason,
  Sort, ThreadPage,
} from "./types";

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

type Method = "GET" | "POST" | "PATCH" | "PUT" | "DELETE";

const enc = encodeURIComponent;

export class Api {
  constructor(readonly base: string, private readonly session: Session) {}

  private async request<T>(
    method: Method, path: string, body?: unknown, extra: Record<string, string> = {}, retried = false,
  ): Promise<T> {
    const headers: Record<string, string> = { Accept: "application/json", ...extra };
    const token = this.session.current;
    if (token) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response: Response;
    try {
      response = await fetch(`${this.base}/api/v1${path}`, {
        method, headers, body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "omit", mode: "cors",
      });
    } catch {
      throw new ApiError(0, "network", "");
    }
    if (response.status === 401 && token && !retried) {
      const fresh = await this.session.refresh();
      if (fresh && fresh !== token) return this.request<T>(method, path, body, extra, true);
      if (!fresh) this.session.setToken(null);
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
      throw new ApiError(response.status, error?.code || "http_error", error?.message || `HTTP ${response.status}`);
    }
    return data as T;
  }

  thread(articleId: string, sort: Sort, cursor: string | null): Promise<ThreadPage> {
    const query = `sort=${sort}` + (cursor ? `&cursor=${enc(cursor)}` : "");
    return this.request("GET", `/articles/${enc(articleId)}/comments?${query}`);
  }

  replies(commentId: number, cursor: string | null): Promise<RepliesPage> {
    return this.request("GET", `/comments/${commentId}/replies` + (cursor ? `?cursor=${enc(cursor)}` : ""));
  }

  article(articleId: string): Promise<Article> {
    return this.request("GET", `/articles/${enc(articleId)}`);
  }

  // The Idempotency-Key makes a retried click, or the retry after a token refresh, post once.
  post(articleId: string, body: string, parentId: number | null, idempotencyKey: string): Promise<Comment> {
    return this.request("POST", `/articles/${enc(articleId)}/comments`,
      { body, parent_id: parentId ?? undefined }, { "Idempotency-Key": idempotencyKey });
  }

  edit(commentId: number, body: string): Promise<Comment> {
    return this.request("PATCH", `/comments/${commentId}`, { body });
  }

  remove(commentId: number): Promise<void> {
    return this.request("DELETE", `/comments/${commentId}`);
  }

  react(commentId: number, kind: ReactionKind, on: boolean): Promise<ReactionCounts> {
    return this.request(on ? "PUT" : "DELETE", `/comments/${commentId}/reactions/${kind}`);
  }

  report(commentId: number, reason: ReportReason, note: string): Promise<unknown> {
    return this.request("POST", `/comments/${commentId}/reports`, { reason, note: note || undefined });
  }

  counts(ids: string[]): Promise<{ counts: Record<string, number> }> {
    return this.request("GET", `/articles/counts?ids=${ids.map(enc).join(",")}`);
  }

  liveblog(articleId: string, cursor: string | null): Promise<LiveBlogPage> {
    return this.request("GET", `/articles/${enc(articleId)}/liveblog` + (cursor ? `?cursor=${enc(cursor)}` : ""));
  }
}
