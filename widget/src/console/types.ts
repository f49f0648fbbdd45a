// The shapes the console reads from Baraza's API (see GET /api/v1/openapi.json).

export type QueueName = "pending" | "held" | "reported" | "rejected" | "approved";
export const QUEUES: QueueName[] = ["pending", "held", "reported", "rejected", "approved"];
export type CommentStatus = "pending" | "approved" | "held" | "rejected" | "deleted";
export type UserStatus = "active" | "premod" | "suspended" | "banned";
export type DecisionAction = "approve" | "reject" | "feature" | "unfeature";
export const REASONS = [
  "abuse", "spam", "off_topic", "hate", "harassment", "misinformation", "other",
] as const;
export type ReasonCode = (typeof REASONS)[number];
export type Role = "moderator" | "editor" | "admin";

export interface ConsoleSession { sub: string; name: string; roles: Role[] }
export interface ConsoleConfig { login_url: string | null }

export interface AuthorSummary {
  id: string; name: string | null; status: UserStatus; suspended_until: string | null;
  approved_count: number; rejected_count: number; reported_count: number;
}
export interface ArticleSummary {
  id: string; title: string | null; url: string | null; comments: string; moderation: string;
}
export interface ParentExcerpt { id: number; author_id: string; status: CommentStatus; excerpt: string }
export interface ReportSummary { count: number; reasons: Record<string, number>; notes: string[] }

export interface QueueItem {
  id: number; status: CommentStatus; body: string; html: string; featured: boolean;
  depth: number; root_id: number | null; created_at: string; edited_at: string | null;
  published_at: string | null; decided_at: string | null; article: ArticleSummary;
  author: AuthorSummary; parent: ParentExcerpt | null; scores: Record<string, number> | null;
  risk: number | null; model: string | null; decision_reason: string | null; rule: string | null;
  reports: ReportSummary;
}
export interface QueuePage { queue: QueueName; order: string; items: QueueItem[]; next_cursor: string | null }
export interface QueueCounts { article_id: string | null; counts: Record<QueueName, number> }

export interface QueueFilters { article_id?: string; author_id?: string; reason?: string; since?: string }

export interface ItemError { code: string; message: string }
export interface LastAction { actor_id: string; action: string; created_at: string }
export interface DecisionResult {
  id: number; ok: boolean; changed: boolean; status: CommentStatus | null;
  previous_status: CommentStatus | null; featured: boolean | null;
  error?: ItemError | null; last_action?: LastAction | null;
}
export interface DecisionResponse {
  action: DecisionAction; applied: number; unchanged: number; failed: number;
  results: DecisionResult[];
}

export interface AuditEntry {
  id: number; actor_id: string; action: string; comment_id: number | null;
  subject_user_id: string | null; before: string | null; after: string | null;
  reason: string | null; details: Record<string, unknown> | null; created_at: string;
}
export interface AuditPage { items: AuditEntry[]; next_cursor: string | null }

export interface UserComment {
  id: number; article_id: string; status: CommentStatus; excerpt: string; risk: number | null;
  decision_reason: string | null; created_at: string;
}
export interface UserPage {
  id: string; name: string; status: UserStatus; effective_status: UserStatus;
  suspended_until: string | null; status_reason: string | null; approved_count: number;
  rejected_count: number; reported_count: number; pending_count: number; held_count: number;
  created_at: string; last_seen_at: string; recent_comments: UserComment[];
}
export interface StatusChange { status: UserStatus; until?: string; reason: string; reject_comments: boolean }
export interface StatusChangeResponse { user: UserPage; rejected_comment_ids: number[] }

export interface DeadLetter { comment: QueueItem; error: string | null; failures: number; failed_at: string | null }
export interface DeadLetterPage { items: DeadLetter[]; next_cursor: string | null }
export interface DeadLetterDetail extends DeadLetter { history: AuditEntry[] }
export interface ReplayResponse {
  replayed: number; failed: number; results: { id: number; ok: boolean; error?: ItemError | null }[];
}

export interface Thresholds { hold: number | null; reject: number | null }
export interface PolicyConfig {
  thresholds: Record<string, Thresholds>; new_author_hold_count: number;
  report_hold_count: number; hold_unscored: boolean;
}
export interface PolicyOut { version: number; updated_by: string | null; updated_at: string | null; config: PolicyConfig }
export interface Outcomes { approved: number; held: number; rejected: number }
export interface PreviewChange {
  id: number; article_id: string; excerpt: string; risk: number | null;
  before: CommentStatus; after: CommentStatus; rule: string; reason: string;
}
export interface PreviewResponse {
  examined: number; current: Outcomes; proposed: Outcomes; changed: number;
  changes: PreviewChange[]; applied: number;
}
export type WordlistKind = "banned" | "suspect";
export interface WordlistOut { kind: WordlistKind; version: number; words: string[]; updated_by: string | null; updated_at: string | null }
export interface WordTestResponse { normalized: string; banned: string[]; suspect: string[]; outcome: CommentStatus }

export interface LiveBlog {
  article_id: string; title: string | null; status: "live" | "ended"; revision: number;
  created_at: string; updated_at: string; ended_at: string | null;
}
export interface Post {
  id: number; article_id: string; status: "draft" | "published"; deleted?: boolean;
  author?: { id: string; name: string | null }; body?: string; html?: string;
  key_event?: boolean; pinned?: boolean; revision: number; created_at?: string;
  published_at?: string | null; updated_at?: string; edited_at?: string | null;
}
export interface Timeline { liveblog: LiveBlog; pinned: Post | null; items: Post[]; next_cursor: string | null }
export interface DraftPage { items: Post[]; next_cursor: string | null }
export interface Revision {
  id: number; post_id: number; action: string; actor: { id: string; name: string | null };
  body: string | null; html: string | null; status: string; key_event: boolean; pinned: boolean;
  created_at: string;
}
export interface PostHistory { post: Post; history: Revision[] }
export interface Rendered { body: string; html: string }

export interface LiveEvent { channel: string; offset: number; type: string; data: Record<string, unknown> }
