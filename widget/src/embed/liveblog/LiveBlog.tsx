// The live-blog mount: pinned entry on top, key events marked, entries arriving live under
// an "N new updates" bar, corrections replacing in place, deletions vanishing.
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { ApiError } from "../api";
import { errorText, formatTime, useEnv } from "../env";
import type { LiveBlog as Blog, LiveEvent, LivePost } from "../types";

interface State {
  blog: Blog | null;
  pinned: LivePost | null;
  items: LivePost[];
  fresh: LivePost[];
  cursor: string | null;
}

const EMPTY: State = { blog: null, pinned: null, items: [], fresh: [], cursor: null };

function apply(state: State, event: LiveEvent): State {
  const post = event.data as unknown as LivePost;
  const drop = (list: LivePost[]) => list.filter((p) => p.id !== post.id);
  const replace = (list: LivePost[]) => list.map((p) => (p.id === post.id ? post : p));
  switch (event.type) {
    case "liveblog.post.published": {
      if (state.items.some((p) => p.id === post.id) || state.fresh.some((p) => p.id === post.id)) return state;
      const pinned = post.pinned ? post : state.pinned;
      return { ...state, pinned, fresh: post.pinned ? state.fresh : [post, ...state.fresh] };
    }
    case "liveblog.post.updated": {
      let pinned = state.pinned;
      if (post.pinned) pinned = post;
      else if (pinned?.id === post.id) pinned = null;
      const known = state.items.some((p) => p.id === post.id);
      const items = post.pinned ? drop(state.items) : known ? replace(state.items) : state.pinned?.id === post.id ? [post, ...state.items] : state.items;
      return { ...state, pinned, items, fresh: replace(state.fresh) };
    }
    case "liveblog.post.deleted":
      return {
        ...state, items: drop(state.items), fresh: drop(state.fresh),
        pinned: state.pinned?.id === post.id ? null : state.pinned,
      };
    case "liveblog.status": {
      const blog = event.data as unknown as Blog;
      return { ...state, blog: state.blog ? { ...state.blog, ...blog } : blog };
    }
    default:
      return state;
  }
}

function Entry({ post, pinned }: { post: LivePost; pinned?: boolean }) {
  const { t, lang } = useEnv();
  const classes = ["bz-entry", pinned ? "bz-pinned" : "", post.key_event ? "bz-key" : ""].join(" ").trim();
  return (
    <li class="bz-item">
      <article class={classes} data-post-id={String(post.id)}>
        <header class="bz-meta">
          {post.published_at && <time dateTime={post.published_at}>{formatTime(post.published_at, lang)}</time>}
          {pinned && <span class="bz-badge bz-badge-pinned">{t("pinned")}</span>}
          {post.key_event && <span class="bz-badge bz-badge-key">{t("keyEvent")}</span>}
          {post.edited_at && <span class="bz-edited">({t("corrected")})</span>}
          {post.author?.name && <span class="bz-author">{post.author.name}</span>}
        </header>
        <div class="bz-body" dangerouslySetInnerHTML={{ __html: post.html || "" }} />
      </article>
    </li>
  );
}

export function LiveBlog({ articleId }: { articleId: string }) {
  const env = useEnv();
  const { t, api, live } = env;
  const [state, setState] = useState<State>(EMPTY);
  const [error, setError] = useState<string | null>(null);
  const [keyOnly, setKeyOnly] = useState(false);
  const [absent, setAbsent] = useState(false);
  const loaded = useRef(false);

  const load = useCallback(async () => {
    try {
      const page = await api.liveblog(articleId, null);
      loaded.current = true;
      const items = page.items.filter((p) => !p.deleted && p.id !== page.pinned?.id);
      setState({ blog: page.liveblog, pinned: page.pinned, items, fresh: [], cursor: page.next_cursor });
      setError(null);
      setAbsent(false);
    } catch (failure) {
      // No live blog on this article (yet): the mount stays empty until one starts.
      if (failure instanceof ApiError && failure.status === 404) setAbsent(true);
      else setError(errorText(env, failure));
    }
  }, [api, articleId]);

  useEffect(() => { void load(); }, [load]);
  useEffect(() => live.subscribe(`article:${articleId}`, {
    event: (e) => {
      if (!e.type.startsWith("liveblog.")) return;
      if (!loaded.current) void load(); // the blog started after this page opened
      else setState((s) => apply(s, e));
    },
    resync: () => void load(),
  }), [live, articleId, load]);

  const older = async () => {
    try {
      const page = await api.liveblog(articleId, state.cursor);
      setState((s) => ({ ...s, items: [...s.items, ...page.items.filter((p) => !p.deleted && !s.items.some((q) => q.id === p.id))], cursor: page.next_cursor }));
    } catch (failure) {
      setError(errorText(env, failure));
    }
  };

  if (absent) return null;
  const { blog, pinned, fresh } = state;
  // The pinned entry is shown once, on top.
  const timeline = state.items.filter((p) => p.id !== pinned?.id);
  const items = keyOnly ? timeline.filter((p) => p.key_event) : timeline;
  return (
    <section class="bz-liveblog" aria-labelledby={`baraza-lb-${articleId}`}>
      <div class="bz-head">
        <h2 id={`baraza-lb-${articleId}`} class="bz-title">{blog?.title || t("liveUpdates")}</h2>
        {blog?.status === "live" && <span class="bz-badge bz-badge-live">{t("liveNow")}</span>}
        <label class="bz-sort">
          <input type="checkbox" checked={keyOnly} onChange={(e) => setKeyOnly((e.currentTarget as HTMLInputElement).checked)} />
          <span>{t("keyEventsOnly")}</span>
        </label>
      </div>
      {blog?.status === "ended" && <p class="bz-closed">{t("liveEnded")}</p>}
      {error && <p class="bz-error" role="alert">{error}</p>}
      {pinned && <ul class="bz-list bz-pinned-list"><Entry post={pinned} pinned /></ul>}
      {fresh.length > 0 && (
        <button type="button" class="bz-newbar" onClick={() => setState((s) => ({ ...s, items: [...s.fresh, ...s.items], fresh: [] }))}>
          {fresh.length === 1 ? t("newUpdate") : t("newUpdates", { n: fresh.length })}
        </button>
      )}
      <div class="bz-sr" aria-live="polite">{fresh.length ? t("announceUpdates", { n: fresh.length }) : ""}</div>
      {loaded.current && !items.length && !pinned && <p class="bz-empty">{t("noUpdates")}</p>}
      <ul class="bz-list">{items.map((p) => <Entry key={p.id} post={p} />)}</ul>
      {state.cursor && <button type="button" class="bz-button bz-more" onClick={older}>{t("loadOlder")}</button>}
    </section>
  );
}
