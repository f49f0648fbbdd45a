// A review queue: items in risk order, one keystroke a decision, live updates from other
// consoles. Decisions are optimistic: the item leaves and the next one is focused at once;
// the server's answer is reconciled afterwards (a failure puts items back, a conflict is shown).
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { ApiError } from "./api";
import { message, useConsole } from "./context";
import { HistoryDialog, KeysHelp, RejectDialog } from "./dialogs";
import { Item, type ItemAction } from "./Item";
import type {
  DecisionAction, DecisionResponse, QueueFilters, QueueItem, QueueName, ReasonCode,
} from "./types";

const MAX_BULK = 500;

interface Notice { id: number; text: string; kind: "info" | "error" }
let noticeIds = 0;

function inQueue(item: QueueItem, queue: QueueName): boolean {
  return queue === "reported" ? item.status === "approved" && item.reports.count > 0 : item.status === queue;
}

function byRisk(a: QueueItem, b: QueueItem): number {
  const ra = a.risk ?? 2; // unscored first, as the server orders them
  const rb = b.risk ?? 2;
  return rb - ra || b.id - a.id;
}

function typing(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  return !!el && (el.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName));
}

export function Queue({ queue, filters, onFilters }: {
  queue: QueueName; filters: QueueFilters; onFilters(f: QueueFilters): void;
}) {
  const { api, live, t } = useConsole();
  const [items, setItems] = useState<QueueItem[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [focus, setFocus] = useState(0);
  const [selected, setSelected] = useState<Set<number>>(new Set());
  const [notices, setNotices] = useState<Notice[]>([]);
  const [rejecting, setRejecting] = useState<number[] | null>(null);
  const [help, setHelp] = useState(false);
  const [history, setHistory] = useState<number | null>(null);
  // The latest list and focus, for handlers registered once (live events, stable callbacks).
  const itemsRef = useRef<QueueItem[]>([]);
  itemsRef.current = items;
  const focusRef = useRef(0);
  focusRef.current = focus;
  const mine = useRef(new Set<number>());
  const focusedEl = useRef<HTMLElement | null>(null);
  const keyboardMove = useRef(false);

  const notify = (text: string, kind: Notice["kind"] = "info") =>
    setNotices((n) => [...n.slice(-4), { id: ++noticeIds, text, kind }]);

  const load = async (more = false) => {
    setLoading(true);
    try {
      const page = await api.queue(queue, filters, more ? cursor ?? undefined : undefined);
      setItems((old) => (more ? [...old, ...page.items.filter((i) => !old.some((o) => o.id === i.id))] : page.items));
      setCursor(page.next_cursor);
      if (!more) { setFocus(0); setSelected(new Set()); }
    } catch (e) {
      notify(message(e), "error");
    } finally {
      setLoading(false);
    }
  };

  useEffect(() => { void load(); }, [queue, JSON.stringify(filters)]);

  // Live: items decided elsewhere leave, newly held items arrive in risk order.
  useEffect(() => live.subscribe("moderation", {
    event(event) {
      if (event.type === "comment.decided") {
        const d = event.data as { comment_ids: number[]; action: string; status: string; actor: string };
        const ours = d.comment_ids.filter((id) => mine.current.has(id));
        ours.forEach((id) => mine.current.delete(id));
        const theirs = new Set(d.comment_ids.filter((id) => !ours.includes(id)));
        if (!theirs.size) return;
        if (d.action === "feature" || d.action === "unfeature") {
          setItems((old) => old.map((i) => (theirs.has(i.id) ? { ...i, featured: d.action === "feature" } : i)));
          return;
        }
        const leaving = itemsRef.current.filter((i) => theirs.has(i.id) && !(queue === d.status && queue !== "reported"));
        if (!leaving.length) return;
        removeItems(new Set(leaving.map((i) => i.id)));
        notify(t.decidedElsewhere(leaving.length, d.actor, d.status));
      } else if (event.type === "comment.queued") {
        const item = event.data as unknown as QueueItem;
        if (!item.article) return; // a summary only: the next load shows it
        if (!inQueue(item, queue) || !matches(item, filters)) return;
        setItems((old) => (old.some((i) => i.id === item.id) ? old : [...old, item].sort(byRisk)));
      }
    },
    resync() { void load(); },
  }), [queue, JSON.stringify(filters)]);

  // Keep DOM focus on the focused item when it moved by keyboard or a decision; a layout
  // effect, so the focus moves in the same task as the render, not a frame later.
  useLayoutEffect(() => {
    if (keyboardMove.current && focusedEl.current) {
      focusedEl.current.focus({ preventScroll: true });
      focusedEl.current.scrollIntoView({ block: "nearest" });
      keyboardMove.current = false;
    }
  });

  function removeItems(ids: Set<number>): void {
    const old = itemsRef.current;
    const focus = focusRef.current;
    const current = old[focus];
    const next = old.filter((i) => !ids.has(i.id));
    let index = focus;
    if (current && ids.has(current.id)) {
      // The next item still standing after the focused one, else the last.
      const after = old.slice(focus).find((i) => !ids.has(i.id));
      index = after ? next.indexOf(after) : next.length - 1;
    } else if (current) {
      index = next.indexOf(current);
    }
    itemsRef.current = next;
    focusRef.current = Math.max(0, index);
    setItems(next);
    setFocus(Math.max(0, index));
    setSelected((s) => new Set([...s].filter((id) => !ids.has(id))));
  }

  function targets(): number[] {
    if (selected.size) return [...selected].slice(0, MAX_BULK);
    const item = items[focus];
    return item ? [item.id] : [];
  }

  function reconcile(action: DecisionAction, response: DecisionResponse, taken: QueueItem[]): void {
    const back: QueueItem[] = [];
    for (const r of response.results) {
      if (!r.ok && r.error) {
        notify(t.conflict(r.id, r.error.message), "error");
        if (r.error.code !== "conflict" && r.error.code !== "comment_deleted" && r.error.code !== "comment_not_found") {
          const item = taken.find((i) => i.id === r.id);
          if (item) back.push(item);
        }
      } else if (!r.changed && r.last_action) {
        notify(t.alreadyDone(r.id, r.last_action.actor_id, r.last_action.action));
      }
    }
    if (back.length && action !== "feature" && action !== "unfeature") {
      setItems((old) => [...old, ...back].sort(byRisk));
    }
  }

  function decide(action: DecisionAction, ids: number[], reason?: ReasonCode): void {
    if (!ids.length) return;
    const set = new Set(ids);
    const taken = itemsRef.current.filter((i) => set.has(i.id));
    ids.forEach((id) => mine.current.add(id));
    keyboardMove.current = true;
    if (action === "feature" || action === "unfeature") {
      setItems((old) => old.map((i) => (set.has(i.id) ? { ...i, featured: action === "feature" } : i)));
    } else {
      removeItems(set);
    }
    api.decide(ids, action, { reason, queue }).then(
      (response) => reconcile(action, response, taken),
      (error: unknown) => {
        ids.forEach((id) => mine.current.delete(id));
        notify(error instanceof ApiError ? error.message : message(error), "error");
        if (action === "feature" || action === "unfeature") {
          setItems((old) => old.map((i) => taken.find((x) => x.id === i.id) ?? i));
        } else {
          setItems((old) => [...old, ...taken.filter((x) => !old.some((o) => o.id === x.id))].sort(byRisk));
        }
      },
    );
  }

  // Stable across renders (see Item): reads the latest state through the ref below.
  const latest = useRef({ decide, toggle, setFocus, setRejecting, setHistory });
  latest.current = { decide, toggle, setFocus, setRejecting, setHistory };
  const onItemAction = useRef((id: number, action: ItemAction) => {
    const l = latest.current;
    if (action === "focus") l.setFocus(itemsRef.current.findIndex((i) => i.id === id));
    else if (action === "toggle") l.toggle(id);
    else if (action === "history") l.setHistory(id);
    else if (action === "reject") l.setRejecting([id]);
    else l.decide(action, [id]);
  }).current;
  const setFocusedEl = useRef((el: HTMLElement | null) => { focusedEl.current = el; }).current;

  function move(delta: number): void {
    keyboardMove.current = true;
    setFocus((f) => Math.max(0, Math.min(items.length - 1, f + delta)));
  }

  function toggle(id: number): void {
    setSelected((s) => {
      const next = new Set(s);
      if (next.has(id)) next.delete(id);
      else if (next.size < MAX_BULK) next.add(id);
      return next;
    });
  }

  function selectAll(): void {
    setSelected((s) => (s.size ? new Set() : new Set(items.slice(0, MAX_BULK).map((i) => i.id))));
  }

  // The keyboard handler of this render, swapped in synchronously: a key pressed right after a
  // decision (before effects run) must see the list as it is now, not as it was.
  const onKey = useRef<(e: KeyboardEvent) => void>(() => undefined);
  onKey.current = (e: KeyboardEvent) => {
    if (rejecting || help || history !== null || typing(e.target) || e.metaKey || e.ctrlKey || e.altKey) return;
    const item = items[focus];
    switch (e.key) {
      case "j": case "ArrowDown": move(1); break;
      case "k": case "ArrowUp": move(-1); break;
      case "a": decide("approve", targets()); break;
      case "r": if (targets().length) setRejecting(targets()); break;
      case "f": if (item && item.status === "approved") decide(item.featured ? "unfeature" : "feature", [item.id]); break;
      case "x": if (item) toggle(item.id); break;
      case "X": selectAll(); break;
      case "h": if (item) setHistory(item.id); break;
      case "u": if (item) location.hash = `#/user/${encodeURIComponent(item.author.id)}`; break;
      case "?": setHelp(true); break;
      default: return;
    }
    e.preventDefault();
  };
  useEffect(() => {
    const listener = (e: KeyboardEvent) => onKey.current(e);
    document.addEventListener("keydown", listener);
    return () => document.removeEventListener("keydown", listener);
  }, []);

  return (
    <section class="queue" aria-label={t[queue]}>
      <Filters filters={filters} onApply={onFilters} />
      <div class="toolbar">
        <button type="button" onClick={selectAll}>{selected.size ? t.clearSelection : t.selectAll}</button>
        {selected.size ? (
          <>
            <span aria-live="polite">{t.selected(selected.size)}</span>
            <button type="button" onClick={() => decide("approve", targets())}>{t.approve}</button>
            <button type="button" class="danger" onClick={() => setRejecting(targets())}>{t.reject}</button>
          </>
        ) : null}
        <button type="button" class="link" onClick={() => setHelp(true)} aria-keyshortcuts="?">{t.keys} (?)</button>
      </div>
      <div class="notices" role="status" aria-live="polite">
        {notices.map((n) => (
          <p key={n.id} class={`notice ${n.kind}`}>
            {n.text}{" "}
            <button type="button" class="link" onClick={() => setNotices((all) => all.filter((x) => x.id !== n.id))}>
              {t.close}
            </button>
          </p>
        ))}
      </div>
      {!items.length && !loading ? <p class="empty">{t.empty}</p> : null}
      <div class="items">
        {items.map((item, index) => (
          <Item
            key={item.id}
            item={item}
            focused={index === focus}
            selected={selected.has(item.id)}
            itemRef={index === focus ? setFocusedEl : undefined}
            onAction={onItemAction}
          />
        ))}
      </div>
      {cursor ? <button type="button" onClick={() => load(true)} disabled={loading}>{t.loadMore}</button> : null}
      {rejecting ? (
        <RejectDialog
          count={rejecting.length}
          onClose={() => setRejecting(null)}
          onConfirm={(reason) => { const ids = rejecting; setRejecting(null); decide("reject", ids, reason); }}
        />
      ) : null}
      {help ? <KeysHelp onClose={() => setHelp(false)} /> : null}
      {history !== null ? <HistoryDialog commentId={history} onClose={() => setHistory(null)} /> : null}
    </section>
  );
}

function matches(item: QueueItem, f: QueueFilters): boolean {
  if (f.article_id && item.article.id !== f.article_id) return false;
  if (f.author_id && item.author.id !== f.author_id) return false;
  if (f.reason && !(item.decision_reason ?? "").toLowerCase().includes(f.reason.toLowerCase())) return false;
  if (f.since && item.created_at < f.since) return false;
  return true;
}

function Filters({ filters, onApply }: { filters: QueueFilters; onApply(f: QueueFilters): void }) {
  const { t } = useConsole();
  const [draft, setDraft] = useState<QueueFilters>(filters);
  useEffect(() => setDraft(filters), [JSON.stringify(filters)]);
  const field = (key: keyof QueueFilters, label: string, type = "text") => (
    <label>
      {label}
      <input
        type={type}
        value={key === "since" && draft.since ? draft.since.slice(0, 16) : draft[key] ?? ""}
        onInput={(e) => {
          const value = (e.target as HTMLInputElement).value;
          setDraft({ ...draft, [key]: key === "since" && value ? new Date(value).toISOString() : value || undefined });
        }}
      />
    </label>
  );
  return (
    <form class="filters" aria-label={t.filters} onSubmit={(e) => { e.preventDefault(); onApply(draft); }}>
      {field("article_id", t.article)}
      {field("author_id", t.authorId)}
      {field("reason", t.reason)}
      {field("since", t.since, "datetime-local")}
      <button type="submit">{t.apply}</button>
      <button type="button" onClick={() => onApply({})}>{t.clear}</button>
    </form>
  );
}
