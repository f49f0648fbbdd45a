// One comment in a queue, with everything needed to decide it at a glance.
import { Component, type Ref } from "preact";
import { useConsole, when } from "./context";
import type { QueueItem } from "./types";

const LABELS = [
  "toxicity", "severe_toxicity", "obscene", "threat", "insult", "identity_attack", "sexual_explicit",
];

export function ScoreBars({ scores }: { scores: Record<string, number> | null }) {
  if (!scores) return <p class="muted">Not scored</p>;
  const labels = LABELS.filter((l) => l in scores);
  return (
    <dl class="scores">
      {labels.map((label) => {
        const id = `score-${label}`;
        const value = scores[label];
        return (
          <div class="score" key={label}>
            <dt id={id}>{label.replace(/_/g, " ")}</dt>
            <dd>
              <meter aria-labelledby={id} min={0} max={1} low={0.5} high={0.8} optimum={0} value={value} />
              <span class="num">{value.toFixed(2)}</span>
            </dd>
          </div>
        );
      })}
    </dl>
  );
}

export type ItemAction = "approve" | "reject" | "feature" | "unfeature" | "history" | "toggle" | "focus";

interface ItemProps {
  item: QueueItem;
  focused: boolean;
  selected: boolean;
  itemRef?: Ref<HTMLElement>;
  /** One stable handler for every item, so an item re-renders only when its own props change. */
  onAction(id: number, action: ItemAction): void;
}

/** An item that skips rendering unless its comment, focus or selection changed: deciding one
 * item of a 100-item page re-renders two items, not a hundred. */
export class Item extends Component<ItemProps> {
  shouldComponentUpdate(next: ItemProps): boolean {
    const p = this.props;
    return next.item !== p.item || next.focused !== p.focused || next.selected !== p.selected;
  }

  render() {
    return <ItemView {...this.props} />;
  }
}

function ItemView({ item, focused, selected, itemRef, onAction }: ItemProps) {
  const onFocus = () => onAction(item.id, "focus");
  const onToggle = () => onAction(item.id, "toggle");
  const onDecide = (action: ItemAction) => onAction(item.id, action);
  const onHistory = () => onAction(item.id, "history");
  const { t } = useConsole();
  const a = item.author;
  const headingId = `item-${item.id}-h`;
  return (
    <article
      ref={itemRef}
      class={`item${focused ? " focused" : ""}${selected ? " selected" : ""}`}
      tabIndex={focused ? 0 : -1}
      aria-labelledby={headingId}
      data-comment-id={item.id}
      onFocus={onFocus}
    >
      <header class="item-head">
        <input
          type="checkbox" checked={selected} onChange={onToggle}
          aria-label={`${t.select} ${item.id}`}
        />
        <h3 id={headingId}>
          <a href={`#/user/${encodeURIComponent(a.id)}`}>{a.name ?? a.id}</a>
          <span class={`badge status-${a.status}`}>{a.status}</span>
        </h3>
        <span class="record">{t.record(a.approved_count, a.rejected_count, a.reported_count)}</span>
        <span class="risk" title={t.risk}>{item.risk === null ? "–" : item.risk.toFixed(2)}</span>
      </header>
      <p class="where">
        {item.article.url ? (
          <a href={item.article.url} target="_blank" rel="noopener noreferrer">{item.article.title ?? item.article.id}</a>
        ) : (
          <span>{item.article.title ?? item.article.id}</span>
        )}
        {" · "}<time dateTime={item.created_at}>{when(item.created_at)}</time>
        {item.featured ? <span class="badge">featured</span> : null}
      </p>
      {item.parent ? (
        <blockquote class="parent"><span class="muted">{t.parent} {item.parent.author_id}: </span>{item.parent.excerpt}</blockquote>
      ) : null}
      {/* The server's sanitised HTML, never the raw body. */}
      <div class="body" dangerouslySetInnerHTML={{ __html: item.html }} />
      <div class="why">
        <p><strong>{t.rule}:</strong> {item.rule ?? "–"} {item.decision_reason ? <span class="muted">({item.decision_reason})</span> : null}</p>
        <ScoreBars scores={item.scores} />
        {item.reports.count ? (
          <p class="reports">
            <strong>{t.reports}: {item.reports.count}</strong>{" "}
            {Object.entries(item.reports.reasons).map(([r, n]) => `${r} ×${n}`).join(", ")}
            {item.reports.notes.map((note, i) => <q key={i}>{note}</q>)}
          </p>
        ) : null}
      </div>
      <footer class="actions">
        <button type="button" onClick={() => onDecide("approve")}>{t.approve}</button>
        <button type="button" onClick={() => onDecide("reject")}>{t.reject}</button>
        {item.status === "approved" ? (
          <button type="button" onClick={() => onDecide(item.featured ? "unfeature" : "feature")}>
            {item.featured ? t.unfeature : t.feature}
          </button>
        ) : null}
        <button type="button" onClick={onHistory}>{t.history}</button>
      </footer>
    </article>
  );
}
