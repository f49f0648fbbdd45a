// The live-blog desk (editors): open or end a blog, compose in Markdown with the server's own
// preview, publish or keep a draft, pin, mark key events, correct (history kept), delete, and
// see how many readers are on the page.
import { useEffect, useState } from "preact/hooks";
import { ApiError } from "./api";
import { message, useConsole, when } from "./context";
import type { Post, PostHistory, Timeline } from "./types";

export function Desk({ articleId }: { articleId: string }) {
  const { t } = useConsole();
  const [article, setArticle] = useState(articleId);
  useEffect(() => setArticle(articleId), [articleId]);
  return (
    <section aria-labelledby="desk-h">
      <h2 id="desk-h">{t.desk}</h2>
      <form class="row" onSubmit={(e) => { e.preventDefault(); location.hash = `#/desk/${encodeURIComponent(article)}`; }}>
        <label>{t.article} <input type="text" required value={article} onInput={(e) => setArticle((e.target as HTMLInputElement).value)} /></label>
        <button type="submit">{t.apply}</button>
      </form>
      {articleId ? <Blog key={articleId} articleId={articleId} /> : null}
    </section>
  );
}

function Blog({ articleId }: { articleId: string }) {
  const { api, live, t } = useConsole();
  const [timeline, setTimeline] = useState<Timeline | null>(null);
  const [missing, setMissing] = useState(false);
  const [drafts, setDrafts] = useState<Post[]>([]);
  const [readers, setReaders] = useState<number | null>(null);
  const [title, setTitle] = useState("");
  const [error, setError] = useState<string | null>(null);

  const load = async () => {
    try {
      setTimeline(await api.timeline(articleId));
      setMissing(false);
      setDrafts((await api.drafts(articleId)).items);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) setMissing(true);
      else setError(message(e));
    }
  };
  useEffect(() => { void load(); }, []);
  useEffect(() => live.subscribe(`article:${articleId}`, {
    event(event) { if (event.type.startsWith("liveblog.")) void load(); },
    presence(count) { setReaders(count); },
    resync() { void load(); },
  }), []);

  const act = async (what: () => Promise<unknown>) => {
    setError(null);
    try { await what(); await load(); } catch (e) { setError(message(e)); }
  };

  if (missing) {
    return (
      <form class="row" onSubmit={(e) => { e.preventDefault(); void act(() => api.putBlog(articleId, { title, status: "live" })); }}>
        <label>Title <input type="text" required maxLength={500} value={title} onInput={(e) => setTitle((e.target as HTMLInputElement).value)} /></label>
        <button type="submit">{t.openBlog}</button>
        {error ? <p role="alert" class="notice error">{error}</p> : null}
      </form>
    );
  }
  if (!timeline) return <p>{error ?? "…"}</p>;
  const blog = timeline.liveblog;
  return (
    <div class="desk">
      <p class="row">
        <strong>{blog.title}</strong> <span class={`badge status-${blog.status}`}>{blog.status}</span>
        <span class="readers" aria-live="polite">{readers === null ? "" : t.readers(readers)}</span>
        {blog.status === "live"
          ? <button type="button" onClick={() => act(() => api.putBlog(articleId, { status: "ended" }))}>{t.endBlog}</button>
          : <button type="button" onClick={() => act(() => api.putBlog(articleId, { status: "live" }))}>{t.reopenBlog}</button>}
      </p>
      {error ? <p role="alert" class="notice error">{error}</p> : null}
      <Composer onSubmit={(post) => act(() => api.createPost(articleId, post))} />
      <h3>{t.drafts}</h3>
      <ul class="plain">
        {drafts.map((d) => (
          <li key={d.id} class="entry" data-post-id={d.id}>
            <div class="body" dangerouslySetInnerHTML={{ __html: d.html ?? "" }} />
            <button type="button" onClick={() => act(() => api.publishPost(d.id))}>{t.publish}</button>
            <button type="button" onClick={() => confirm(t.confirmDelete) && act(() => api.deletePost(d.id))}>{t.delete}</button>
          </li>
        ))}
      </ul>
      <h3>{t.timeline}</h3>
      <ol class="plain">
        {timeline.items.map((p) => <Entry key={p.id} post={p} act={act} />)}
      </ol>
    </div>
  );
}

function Composer({ initial = "", onSubmit, correcting = false }: {
  initial?: string; correcting?: boolean;
  onSubmit(post: { body: string; key_event: boolean; pinned: boolean; draft: boolean }): Promise<void>;
}) {
  const { api, t } = useConsole();
  const [body, setBody] = useState(initial);
  const [keyEvent, setKeyEvent] = useState(false);
  const [pinned, setPinned] = useState(false);
  const [html, setHtml] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const id = correcting ? "correct-body" : "compose-body";

  const preview = async () => {
    setError(null);
    try { setHtml((await api.render(body)).html); } catch (e) { setError(message(e)); setHtml(null); }
  };
  const submit = async (draft: boolean) => {
    await onSubmit({ body, key_event: keyEvent, pinned, draft });
    if (!correcting) { setBody(""); setHtml(null); setKeyEvent(false); setPinned(false); }
  };
  return (
    <form class="composer" onSubmit={(e) => { e.preventDefault(); void submit(false); }}>
      <label for={id}>{correcting ? t.correct : t.compose}</label>
      <textarea id={id} rows={correcting ? 4 : 6} required value={body} onInput={(e) => setBody((e.target as HTMLTextAreaElement).value)} />
      {correcting ? null : (
        <div class="row">
          <label class="check"><input type="checkbox" checked={keyEvent} onChange={(e) => setKeyEvent((e.target as HTMLInputElement).checked)} /> {t.keyEvent}</label>
          <label class="check"><input type="checkbox" checked={pinned} onChange={(e) => setPinned((e.target as HTMLInputElement).checked)} /> {t.pinned}</label>
        </div>
      )}
      <div class="row">
        <button type="button" onClick={preview}>{t.preview}</button>
        <button type="submit">{correcting ? t.save : t.publish}</button>
        {correcting ? null : <button type="button" onClick={() => submit(true)}>{t.saveDraft}</button>}
      </div>
      {error ? <p role="alert" class="notice error">{error}</p> : null}
      {html !== null ? <div class="preview body" aria-label={t.preview} role="region" dangerouslySetInnerHTML={{ __html: html }} /> : null}
    </form>
  );
}

function Entry({ post, act }: { post: Post; act(what: () => Promise<unknown>): Promise<void> }) {
  const { api, t } = useConsole();
  const [editing, setEditing] = useState(false);
  const [history, setHistory] = useState<PostHistory | null>(null);
  return (
    <li class="entry" data-post-id={post.id}>
      <p class="muted">
        {when(post.published_at)}{post.edited_at ? ` · corrected ${when(post.edited_at)}` : ""}
        {post.key_event ? <span class="badge">{t.keyEvent}</span> : null}
        {post.pinned ? <span class="badge">{t.pinned}</span> : null}
      </p>
      <div class="body" dangerouslySetInnerHTML={{ __html: post.html ?? "" }} />
      <div class="row">
        <button type="button" onClick={() => setEditing(!editing)}>{t.correct}</button>
        <button type="button" aria-pressed={!!post.pinned} onClick={() => act(() => api.editPost(post.id, { pinned: !post.pinned }))}>{t.pinned}</button>
        <button type="button" aria-pressed={!!post.key_event} onClick={() => act(() => api.editPost(post.id, { key_event: !post.key_event }))}>{t.keyEvent}</button>
        <button type="button" onClick={() => (history ? setHistory(null) : api.postHistory(post.id).then(setHistory))}>{t.history}</button>
        <button type="button" onClick={() => confirm(t.confirmDelete) && act(() => api.deletePost(post.id))}>{t.delete}</button>
      </div>
      {editing ? (
        <Composer correcting initial={post.body ?? ""} onSubmit={async ({ body }) => { await act(() => api.editPost(post.id, { body })); setEditing(false); }} />
      ) : null}
      {history ? (
        <ol class="timeline" aria-label={`${t.history} ${post.id}`}>
          {history.history.map((r) => (
            <li key={r.id}><time dateTime={r.created_at}>{when(r.created_at)}</time> <strong>{r.action}</strong> by {r.actor.name ?? r.actor.id}{r.body ? <q>{r.body.slice(0, 120)}</q> : null}</li>
          ))}
        </ol>
      ) : null}
    </li>
  );
}
