// The comments mount: the thread of an article, its composer and its live updates.
import { useCallback, useEffect, useReducer, useRef, useState } from "preact/hooks";
import { errorText, useEnv } from "../env";
import type { Comment, LiveEvent, Sort } from "../types";
import { CommentItem } from "./CommentItem";
import { Composer } from "./Composer";
import { initialState, reduce, type Action } from "./store";
import { featuredFirst } from "./tree";

interface Props {
  articleId: string;
  maxDepth: number;
}

function useReader() {
  const { session } = useEnv();
  const [reader, setReader] = useState(session.reader);
  useEffect(() => session.subscribe(setReader), [session]);
  return reader;
}

function onArticleEvent(event: LiveEvent, dispatch: (a: Action) => void): void {
  const data = event.data as Record<string, unknown>;
  const id = Number(data.id);
  switch (event.type) {
    case "comment.published":
      return dispatch({ type: "published", comment: data as unknown as Comment });
    case "comment.updated":
      return dispatch({ type: "updated", comment: data as unknown as Comment });
    case "comment.removed":
      return dispatch({ type: "removed", id, placeholder: data.placeholder === true });
    case "comment.reactions":
      return dispatch({ type: "reactions", id, reactions: data.reactions as Comment["reactions"], count: Number(data.reaction_count) });
    case "comment.featured":
      return dispatch({ type: "featured", id, featured: data.featured === true });
    default:
      return undefined;
  }
}

function onReaderEvent(event: LiveEvent, articleId: string, dispatch: (a: Action) => void): void {
  const data = event.data as Record<string, unknown>;
  if (data.article_id !== articleId) return;
  const id = Number(data.comment_id);
  switch (event.type) {
    case "reader.decided":
      return dispatch({ type: "decided", id, status: String(data.status), comment: (data.comment as Comment | undefined) || null });
    case "reader.replied":
      return dispatch({ type: "notice", notice: { key: "replyNotice", name: String(data.author_name || ""), commentId: Number(data.reply_id) } });
    case "reader.featured":
      if (data.featured === true) dispatch({ type: "notice", notice: { key: "featuredNotice", commentId: id } });
      return undefined;
    default:
      return undefined;
  }
}

export function Thread({ articleId, maxDepth }: Props) {
  const env = useEnv();
  const { t, api, live } = env;
  const reader = useReader();
  const [state, dispatch] = useReducer(reduce, "newest", initialState);
  const [loadError, setLoadError] = useState<string | null>(null);
  const sortRef = useRef<Sort>(state.sort);

  // The first page is requested while the first render happens, not after it (an effect would
  // wait for the browser to paint first).
  const [firstPage] = useState(() => {
    const page = api.thread(articleId, "newest", null);
    page.catch(() => undefined); // not an unhandled rejection if the reader changed meanwhile
    return { reader: env.session.reader?.sub, page };
  });
  const firstUsed = useRef(false);

  const load = useCallback(async (sort: Sort) => {
    sortRef.current = sort;
    dispatch({ type: "loading", sort });
    try {
      const prefetched = !firstUsed.current && sort === "newest" && firstPage.reader === env.session.reader?.sub;
      firstUsed.current = true;
      const page = await (prefetched ? firstPage.page : api.thread(articleId, sort, null));
      if (sortRef.current !== sort) return;
      dispatch({ type: "page", items: page.items, awaiting: page.awaiting_review, cursor: page.next_cursor, count: page.comment_count, append: false });
      setLoadError(null);
    } catch (failure) {
      setLoadError(errorText(env, failure));
      dispatch({ type: "failed" });
    }
  }, [api, articleId]);

  // The thread (again when the reader signs in or out: their own comments and reactions differ).
  useEffect(() => { void load(sortRef.current); }, [load, reader?.sub]);
  useEffect(() => {
    api.article(articleId).then((a) => dispatch({ type: "open", open: a.open }), () => undefined);
  }, [api, articleId]);

  useEffect(() => live.subscribe(`article:${articleId}`, {
    event: (e) => onArticleEvent(e, dispatch),
    presence: (count) => dispatch({ type: "presence", count }),
    resync: () => void load(sortRef.current),
  }), [live, articleId, load]);

  useEffect(() => {
    if (!reader) return undefined;
    return live.subscribe(`user:${reader.sub}`, { event: (e) => onReaderEvent(e, articleId, dispatch) });
  }, [live, articleId, reader?.sub]);

  const loadMore = async () => {
    try {
      const page = await api.thread(articleId, state.sort, state.cursor);
      dispatch({ type: "page", items: page.items, awaiting: null, cursor: page.next_cursor, count: page.comment_count, append: true });
    } catch (failure) {
      setLoadError(errorText(env, failure));
    }
  };

  const post = async (body: string, parentId: number | null) => {
    const key = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
    const comment = await api.post(articleId, body, parentId, key);
    dispatch({ type: "posted", comment: { ...comment, mine: true, awaiting_review: comment.status !== "approved" } });
  };

  const items = featuredFirst(state.items);
  const fresh = state.fresh.length;
  return (
    <section class="bz-thread" aria-labelledby={`baraza-${articleId}-h`} aria-busy={state.status === "loading" ? "true" : "false"}>
      <div class="bz-head">
        <h2 id={`baraza-${articleId}-h`} class="bz-title">{t("comments")} <span class="bz-total">({state.count})</span></h2>
        {state.presence !== null && state.presence > 0 && <span class="bz-presence">{t("reading", { n: state.presence })}</span>}
        <label class="bz-sort">
          <span class="bz-label-inline">{t("sortBy")}</span>
          <select value={state.sort} onChange={(e) => void load((e.currentTarget as HTMLSelectElement).value as Sort)}>
            <option value="newest">{t("sortNewest")}</option>
            <option value="oldest">{t("sortOldest")}</option>
            <option value="top">{t("sortTop")}</option>
          </select>
        </label>
      </div>
      {state.notices.map((n) => (
        <div key={n.id} class={`bz-notice bz-notice-${n.key}`} role="status">
          <span>{t(n.key, { name: n.name || "" })}</span>
          <button type="button" class="bz-link" onClick={() => dispatch({ type: "dismiss", id: n.id })}>{t("dismiss")}</button>
        </div>
      ))}
      {!state.open ? (
        <p class="bz-closed">{t("closed")}</p>
      ) : reader ? (
        <div class="bz-compose">
          <p class="bz-signed-in">{t("signedInAs", { name: reader.name })}</p>
          <Composer label={t("writeComment")} submitLabel={t("post")} onSubmit={(body) => post(body, null)} />
        </div>
      ) : env.loginUrl ? (
        <p class="bz-signin"><a href={env.loginUrl}>{t("signIn")}</a></p>
      ) : (
        <p class="bz-signin">{t("signIn")}</p>
      )}
      {state.awaiting.length > 0 && (
        <ul class="bz-list bz-awaiting-list" aria-label={t("awaitingReviewLong")}>
          {state.awaiting.map((c) => <CommentItem key={c.id} comment={{ ...c, mine: true, awaiting_review: true }} dispatch={dispatch} onReply={(p, b) => post(b, p)} maxDepth={maxDepth} />)}
        </ul>
      )}
      {fresh > 0 && (
        <button type="button" class="bz-newbar" onClick={() => dispatch({ type: "showFresh" })}>
          {fresh === 1 ? t("newComment") : t("newComments", { n: fresh })}
        </button>
      )}
      <div class="bz-sr" aria-live="polite">{fresh > 1 ? t("announceNew", { n: fresh }) : fresh === 1 ? t("announceOne") : ""}</div>
      {state.status === "loading" && !items.length && <p class="bz-status">{t("loading")}</p>}
      {state.status === "failed" && (
        <p class="bz-error" role="alert">{t("loadFailed")} {loadError} <button type="button" class="bz-link" onClick={() => void load(state.sort)}>{t("retry")}</button></p>
      )}
      {state.status === "ready" && !items.length && !state.awaiting.length && <p class="bz-empty">{t("noComments")}</p>}
      <ul class="bz-list">
        {items.map((c) => <CommentItem key={c.id} comment={c} dispatch={dispatch} onReply={(p, b) => post(b, p)} maxDepth={maxDepth} />)}
      </ul>
      {state.cursor && <button type="button" class="bz-button bz-more" onClick={loadMore}>{t("loadMore")}</button>}
    </section>
  );
}
