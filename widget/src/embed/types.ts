// The shapes of the v1 API the widget reads (docs/api.md, docs/live.md, docs/liveblog.md).

export type Sort = "newest" | "oldest" | "top";
export const REACTIONS = ["like", "respect", "insightful", "funny", "sad", "angry"] as const;
export type ReactionKind = (typeof REACTIONS)[number];
export const REPORT_REASONS = [
  "abuse", "spam", "off_topic", "hate", "harassment", "misinformation", "other",
] as const;
export type ReportReason = (typeof REPORT_REASONS)[number];

export interface Comment {
  id: number;
  article_id: string;
  parent_id: number | null;
  depth: number;
  author: { id: string; name: string | null } | null;
  body: string;
  html: string;
  status: string;
  featured: boolean;
  created_at: string | null;
  edited_at: string | null;
  reactions: Partial<Record<ReactionKind, number>>;
  reaction_count: number;
  reply_count: number;
  mine?: boolean;
  awaiting_review?: boolean;
  my_reactions?: ReactionKind[];
  replies?: Comment[];
  /** Where "more replies" continues (client-side only; null when all are loaded). */
  replies_cursor?: string | null;
}

export interface ThreadPage {
  article_id: string;
  sort: Sort;
  comment_count: number;
  items: Comment[];
  awaiting_review: Comment[];
  next_cursor: string | null;
}

export interface RepliesPage {
  parent_id: number;
  items: Comment[];
  next_cursor: string | null;
}

export interface Article {
  id: string;
  comments: "open" | "closed";
  open: boolean;
  comment_count: number;
}

export interface ReactionCounts {
  id: number;
  reactions: Partial<Record<ReactionKind, number>>;
  reaction_count: number;
  my_reactions?: ReactionKind[];
}

export interface LivePost {
  id: number;
  article_id: string;
  status: string;
  deleted?: boolean;
  author?: { id: string; name: string | null };
  body?: string;
  html?: string;
  key_event?: boolean;
  pinned?: boolean;
  revision: number;
  published_at?: string | null;
  edited_at?: string | null;
}

export interface LiveBlog {
  article_id: string;
  title: string | null;
  status: "live" | "ended" | string;
}

export interface LiveBlogPage {
  liveblog: LiveBlog;
  pinned: LivePost | null;
  items: LivePost[];
  next_cursor: string | null;
}

// Live protocol: what the server sends.
export interface LiveEvent {
  op: "event";
  channel: string;
  offset: number;
  type: string;
  data: Record<string, unknown>;
}

export type ServerMessage =
  | { op: "subscribed"; channel: string; offset: number; recovered: boolean }
  | { op: "unsubscribed"; channel: string }
  | LiveEvent
  | { op: "presence"; channel: string; count: number }
  | { op: "authenticated"; user: string; roles: string[] }
  | { op: "pong" }
  | { op: "error"; code: string; message: string; channel?: string };
