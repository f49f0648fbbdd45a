// One comment as a reader sees it, with its actions and its replies.
import { useState } from "preact/hooks";
import { errorText, formatTime, useEnv } from "../env";
import { REACTIONS, type Comment, type ReactionKind } from "../types";
import { Composer } from "./Composer";
import { ReportForm } from "./ReportForm";
import type { Action } from "./store";

interface Props {
  comment: Comment;
  dispatch(action: Action): void;
  onReply(parentId: number, body: string): Promise<void>;
  maxDepth: number;
}

type Mode = "read" | "reply" | "edit" | "report" | "confirmDelete";

export function CommentItem({ comment: c, dispatch, onReply, maxDepth }: Props) {
  const env = useEnv();
  const { t, lang, session } = env;
  const [mode, setMode] = useState<Mode>("read");
  const [collapsed, setCollapsed] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const signedIn = session.reader !== null;
  const deleted = c.status === "deleted";
  const replies = c.replies || [];
  const moreReplies = c.replies_cursor !== null && c.reply_count > replies.length;
  const headingId = `baraza-c${c.id}-by`;

  const act = async (fn: () => Promise<void>) => {
    setError(null);
    try {
      await fn();
    } catch (failure) {
      setError(errorText(env, failure));
    }
  };

  const react = (kind: ReactionKind) => act(async () => {
    const on = !(c.my_reactions || []).includes(kind);
    const counts = await env.api.react(c.id, kind, on);
    const mine = on ? [...(c.my_reactions || []), kind] : (c.my_reactions || []).filter((k) => k !== kind);
    dispatch({ type: "reactions", id: c.id, reactions: counts.reactions, count: counts.reaction_count, mine });
  });

  const loadReplies = () => act(async () => {
    const page = await env.api.replies(c.id, c.replies_cursor ?? null);
    dispatch({ type: "replies", parentId: c.id, items: page.items, cursor: page.next_cursor });
  });

  const classes = ["bz-comment", c.featured ? "bz-featured" : "", c.awaiting_review ? "bz-awaiting" : "", deleted ? "bz-deleted" : ""];
  return (
    <li class="bz-item">
      <article class={classes.join(" ").trim()} data-comment-id={String(c.id)} aria-labelledby={headingId}>
        <header class="bz-meta">
          <strong id={headingId} class="bz-author">{deleted ? "—" : c.author?.name || c.author?.id}</strong>
          {c.created_at && <time dateTime={c.created_at}>{formatTime(c.created_at, lang)}</time>}
          {c.edited_at && !deleted && <span class="bz-edited">({t("edited")})</span>}
          {c.featured && <span class="bz-badge bz-badge-featured">{t("featured")}</span>}
          {c.awaiting_review && <span class="bz-badge bz-badge-awaiting">{t("awaitingReview")}</span>}
        </header>
        {deleted ? (
          <p class="bz-body bz-placeholder">{t("deleted")}</p>
        ) : mode === "edit" ? (
          <Composer label={t("edit")} submitLabel={t("save")} initial={c.body} autoFocus
            onCancel={() => setMode("read")}
            onSubmit={async (body) => {
              const updated = await env.api.edit(c.id, body);
              dispatch({ type: "updated", comment: { ...updated, mine: true } });
              setMode("read");
            }} />
        ) : (
          // The server's sanitised HTML: reader input is never inserted as HTML here.
          <div class="bz-body" dangerouslySetInnerHTML={{ __html: c.html }} />
        )}
        {!deleted && !c.awaiting_review && (
          <div class="bz-actions">
            <div class="bz-reactions" role="group" aria-label={t("reactions")}>
              {REACTIONS.map((kind) => {
                const n = c.reactions[kind] || 0;
                const pressed = (c.my_reactions || []).includes(kind);
                return (
                  <button key={kind} type="button" class="bz-reaction" aria-pressed={pressed ? "true" : "false"}
                    disabled={!signedIn} onClick={() => react(kind)}>
                    {t(`reaction_${kind}`)}{n ? <span class="bz-n"> {n}</span> : null}
                  </button>
                );
              })}
            </div>
            {signedIn && c.depth < maxDepth && <button type="button" class="bz-link" aria-expanded={mode === "reply"} onClick={() => setMode(mode === "reply" ? "read" : "reply")}>{t("reply")}</button>}
            {c.mine && <button type="button" class="bz-link" onClick={() => setMode("edit")}>{t("edit")}</button>}
            {c.mine && <button type="button" class="bz-link" onClick={() => setMode("confirmDelete")}>{t("delete")}</button>}
            {signedIn && !c.mine && <button type="button" class="bz-link" aria-expanded={mode === "report"} onClick={() => setMode(mode === "report" ? "read" : "report")}>{t("report")}</button>}
          </div>
        )}
        {c.awaiting_review && c.mine && !deleted && (
          <div class="bz-actions">
            <button type="button" class="bz-link" onClick={() => setMode("edit")}>{t("edit")}</button>
            <button type="button" class="bz-link" onClick={() => setMode("confirmDelete")}>{t("delete")}</button>
          </div>
        )}
        {mode === "confirmDelete" && (
          <div class="bz-confirm" role="group" aria-label={t("confirmDelete")}>
            <span>{t("confirmDelete")}</span>
            <button type="button" class="bz-button bz-danger" autoFocus onClick={() => act(async () => {
              await env.api.remove(c.id);
              dispatch({ type: "removed", id: c.id, placeholder: true });
              setMode("read");
            })}>{t("delete")}</button>
            <button type="button" class="bz-button bz-quiet" onClick={() => setMode("read")}>{t("cancel")}</button>
          </div>
        )}
        {mode === "report" && <ReportForm commentId={c.id} onDone={() => setMode("read")} />}
        {mode === "reply" && (
          <Composer label={t("writeReply")} submitLabel={t("post")} autoFocus onCancel={() => setMode("read")}
            onSubmit={async (body) => {
              await onReply(c.id, body);
              setMode("read");
            }} />
        )}
        {error && <p class="bz-error" role="alert">{error}</p>}
      </article>
      {replies.length > 0 && (
        <button type="button" class="bz-link bz-toggle" aria-expanded={!collapsed} onClick={() => setCollapsed(!collapsed)}>
          {collapsed ? t("showReplies", { n: Math.max(c.reply_count, replies.length) }) : t("hideReplies")}
        </button>
      )}
      {!collapsed && replies.length > 0 && (
        <ul class="bz-replies">
          {replies.map((r) => <CommentItem key={r.id} comment={r} dispatch={dispatch} onReply={onReply} maxDepth={maxDepth} />)}
        </ul>
      )}
      {!collapsed && moreReplies && (
        <button type="button" class="bz-link bz-more-replies" onClick={loadReplies}>{t("moreReplies")}</button>
      )}
    </li>
  );
}
