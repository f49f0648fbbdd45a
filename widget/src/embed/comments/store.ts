// The one store of a comments mount: the thread, the reader's comments awaiting review, live
// arrivals held under the "N new comments" bar, presence and notices. Reducer-style: every
// change is an action, so live events and the reader's own actions go through the same code.
import type { Comment, Sort } from "../types";
import { addReply, find, mapTree, merge, placeholder, withoutIds } from "./tree";

export interface Notice {
  id: number;
  key: "approvedNotice" | "rejectedNotice" | "replyNotice" | "featuredNotice" | "sessionExpired";
  name?: string;
  commentId?: number;
}

export interface ThreadState {
  status: "loading" | "ready" | "failed";
  open: boolean;
  sort: Sort;
  items: Comment[];
  awaiting: Comment[];
  fresh: Comment[];
  cursor: string | null;
  count: number;
  presence: number | null;
  notices: Notice[];
}

export const initialState = (sort: Sort): ThreadState => ({
  status: "loading", open: true, sort, items: [], awaiting: [], fresh: [], cursor: null,
  count: 0, presence: null, notices: [],
});

export type Action =
  | { type: "loading"; sort: Sort }
  | { type: "failed" }
  | { type: "page"; items: Comment[]; awaiting: Comment[] | null; cursor: string | null; count: number; append: boolean }
  | { type: "open"; open: boolean }
  | { type: "replies"; parentId: number; items: Comment[]; cursor: string | null }
  | { type: "posted"; comment: Comment }
  | { type: "published"; comment: Comment }
  | { type: "updated"; comment: Comment }
  | { type: "removed"; id: number; placeholder: boolean }
  | { type: "reactions"; id: number; reactions: Comment["reactions"]; count: number; mine?: Comment["my_reactions"] }
  | { type: "featured"; id: number; featured: boolean }
  | { type: "showFresh" }
  | { type: "presence"; count: number }
  | { type: "decided"; id: number; status: string; comment: Comment | null }
  | { type: "notice"; notice: Omit<Notice, "id"> }
  | { type: "dismiss"; id: number };

let noticeIds = 0;

function notify(state: ThreadState, notice: Omit<Notice, "id">): ThreadState {
  return { ...state, notices: [...state.notices, { ...notice, id: ++noticeIds }] };
}

function shown(state: ThreadState, id: number): boolean {
  return find(state.items, id) !== null || state.fresh.some((c) => c.id === id);
}

function publish(state: ThreadState, comment: Comment): ThreadState {
  if (shown(state, comment.id)) {
    return { ...state, items: mapTree(state.items, comment.id, (old) => merge(old, comment)) };
  }
  const mine = state.awaiting.find((c) => c.id === comment.id);
  const awaiting = state.awaiting.filter((c) => c.id !== comment.id);
  const entry: Comment = mine ? { ...comment, mine: true, awaiting_review: false, my_reactions: [] } : comment;
  if (comment.parent_id !== null) {
    return { ...state, awaiting, items: addReply(state.items, entry) };
  }
  if (mine) {
    // The reader's own comment takes its place at once: they are waiting for it.
    return { ...state, awaiting, count: state.count + 1, items: [entry, ...state.items] };
  }
  // Someone else's: held under the bar so the text being read does not move.
  return { ...state, awaiting, fresh: [...state.fresh, entry] };
}

export function reduce(state: ThreadState, action: Action): ThreadState {
  switch (action.type) {
    case "loading":
      return { ...state, status: "loading", sort: action.sort };
    case "failed":
      return { ...state, status: "failed" };
    case "open":
      return { ...state, open: action.open };
    case "page": {
      const items = action.append ? [...state.items, ...withoutIds(action.items, new Set(state.items.map((c) => c.id)))] : action.items;
      return {
        ...state, status: "ready", items, cursor: action.cursor, count: action.count,
        awaiting: action.awaiting ?? state.awaiting, fresh: action.append ? state.fresh : [],
      };
    }
    case "replies":
      return {
        ...state,
        items: mapTree(state.items, action.parentId, (parent) => {
          const have = new Set((parent.replies || []).map((r) => r.id));
          const added = action.items.filter((r) => !have.has(r.id));
          return { ...parent, replies: [...(parent.replies || []), ...added], replies_cursor: action.cursor };
        }),
      };
    case "posted":
      return { ...state, awaiting: [action.comment, ...state.awaiting.filter((c) => c.id !== action.comment.id)] };
    case "published":
      return publish(state, action.comment);
    case "updated": {
      const c = action.comment;
      if (c.awaiting_review) {
        // The reader's own edit goes back to review: it leaves the thread until approved.
        const items = mapTree(state.items, c.id, () => null);
        return { ...state, items, awaiting: [c, ...state.awaiting.filter((a) => a.id !== c.id)] };
      }
      return { ...state, items: mapTree(state.items, c.id, (old) => merge(old, c)) };
    }
    case "removed": {
      // A deleted comment with replies stays as a placeholder so its thread stays whole.
      const keep = (old: Comment) => action.placeholder && (old.reply_count > 0 || !!old.replies?.length);
      const drop = (old: Comment) => (keep(old) ? placeholder(old) : null);
      return {
        ...state,
        items: mapTree(state.items, action.id, drop),
        fresh: state.fresh.filter((c) => c.id !== action.id),
        awaiting: state.awaiting.filter((c) => c.id !== action.id),
      };
    }
    case "reactions":
      return {
        ...state,
        items: mapTree(state.items, action.id, (old) => ({
          ...old, reactions: action.reactions, reaction_count: action.count,
          my_reactions: action.mine ?? old.my_reactions,
        })),
      };
    case "featured":
      return { ...state, items: mapTree(state.items, action.id, (old) => ({ ...old, featured: action.featured })) };
    case "showFresh": {
      const fresh = state.fresh;
      const items = state.sort === "newest" ? [...[...fresh].reverse(), ...state.items] : [...state.items, ...fresh];
      return { ...state, fresh: [], items, count: state.count + fresh.length };
    }
    case "presence":
      return { ...state, presence: action.count };
    case "decided": {
      if (action.status === "approved") {
        const next = action.comment ? publish(state, action.comment) : state;
        return notify(next, { key: "approvedNotice", commentId: action.id });
      }
      if (action.status === "rejected") {
        return notify({ ...state, awaiting: state.awaiting.filter((c) => c.id !== action.id) },
          { key: "rejectedNotice", commentId: action.id });
      }
      return state; // held: still awaiting review, as shown
    }
    case "notice":
      return notify(state, action.notice);
    case "dismiss":
      return { ...state, notices: state.notices.filter((n) => n.id !== action.id) };
    default:
      return state;
  }
}
