// Pure operations on a thread (top-level comments with nested replies): no I/O, no DOM.
import type { Comment } from "../types";

export function mapTree(items: Comment[], id: number, fn: (c: Comment) => Comment | null): Comment[] {
  const out: Comment[] = [];
  for (const item of items) {
    if (item.id === id) {
      const next = fn(item);
      if (next) out.push(next);
      continue;
    }
    out.push(item.replies?.length ? { ...item, replies: mapTree(item.replies, id, fn) } : item);
  }
  return out;
}

export function find(items: Comment[], id: number): Comment | null {
  for (const item of items) {
    if (item.id === id) return item;
    const inner = item.replies ? find(item.replies, id) : null;
    if (inner) return inner;
  }
  return null;
}

/** Replace a comment's public fields, keeping what describes the viewer and its loaded replies. */
export function merge(old: Comment, update: Comment): Comment {
  return {
    ...old,
    ...update,
    mine: old.mine,
    my_reactions: old.my_reactions,
    awaiting_review: update.awaiting_review ?? false,
    replies: old.replies,
  };
}

export function placeholder(c: Comment): Comment {
  return { ...c, status: "deleted", body: "", html: "", author: null, reactions: {}, reaction_count: 0 };
}

/** Add a reply under its parent (at the end: replies read oldest first). */
export function addReply(items: Comment[], reply: Comment): Comment[] {
  if (reply.parent_id === null || find(items, reply.id)) return items;
  return mapTree(items, reply.parent_id, (parent) => ({
    ...parent,
    reply_count: parent.reply_count + 1,
    replies: [...(parent.replies || []), reply],
  }));
}

/** Featured comments first, otherwise the server's order. */
export function featuredFirst(items: Comment[]): Comment[] {
  return [...items.filter((c) => c.featured), ...items.filter((c) => !c.featured)];
}

export function withoutIds(items: Comment[], ids: Set<number>): Comment[] {
  return items.filter((c) => !ids.has(c.id));
}
