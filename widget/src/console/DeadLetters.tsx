// Comments whose scoring failed: inspect, then send back to the scorers.
import { useEffect, useState } from "preact/hooks";
import { message, useConsole, when } from "./context";
import { Timeline } from "./dialogs";
import type { DeadLetter, DeadLetterDetail } from "./types";

export function DeadLetters() {
  const { api, t } = useConsole();
  const [items, setItems] = useState<DeadLetter[]>([]);
  const [selected, setSelected] = useState<Set<number>>(new Set());
  const [open, setOpen] = useState<DeadLetterDetail | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const [loaded, setLoaded] = useState(false);

  const load = () => api.deadLetters().then((p) => { setItems(p.items); setLoaded(true); }, (e) => setNote(message(e)));
  useEffect(() => { void load(); }, []);

  const replay = async (ids: number[]) => {
    try {
      const r = await api.replay(ids);
      setNote(`${r.replayed} replayed${r.failed ? `, ${r.failed} not (${r.results.filter((x) => !x.ok).map((x) => x.id).join(", ")})` : ""}`);
      setSelected(new Set());
      setOpen(null);
      await load();
    } catch (e) {
      setNote(message(e));
    }
  };

  return (
    <section aria-labelledby="dl-h">
      <h2 id="dl-h">{t.deadLetters}</h2>
      <div class="toolbar">
        <button type="button" disabled={!selected.size} onClick={() => replay([...selected])}>{t.replay} ({selected.size})</button>
      </div>
      {note ? <p role="status" class="notice info">{note}</p> : null}
      {loaded && !items.length ? <p class="empty">{t.empty}</p> : null}
      <table class="grid">
        <thead><tr><th scope="col"><span class="sr-only">{t.select}</span></th><th scope="col">Comment</th><th scope="col">{t.error}</th><th scope="col">{t.failures}</th><th scope="col">When</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
        <tbody>
          {items.map((d) => (
            <tr key={d.comment.id} data-comment-id={d.comment.id}>
              <td>
                <input
                  type="checkbox" aria-label={`${t.select} ${d.comment.id}`} checked={selected.has(d.comment.id)}
                  onChange={() => setSelected((s) => { const n = new Set(s); if (n.has(d.comment.id)) n.delete(d.comment.id); else n.add(d.comment.id); return n; })}
                />
              </td>
              <td>{d.comment.id} · {d.comment.body.slice(0, 80)}</td>
              <td><code>{d.error ?? "–"}</code></td>
              <td>{d.failures}</td>
              <td>{when(d.failed_at)}</td>
              <td>
                <button type="button" onClick={() => api.deadLetter(d.comment.id).then(setOpen, (e) => setNote(message(e)))}>{t.inspect}</button>
                <button type="button" onClick={() => replay([d.comment.id])}>{t.replayOne}</button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {open ? (
        <div class="panel" role="region" aria-label={`${t.inspect} ${open.comment.id}`}>
          <h3>{t.inspect} · {open.comment.id}</h3>
          <div class="body" dangerouslySetInnerHTML={{ __html: open.comment.html }} />
          <p><code>{open.error}</code></p>
          <Timeline entries={open.history} />
          <button type="button" onClick={() => setOpen(null)}>{t.close}</button>
        </div>
      ) : null}
    </section>
  );
}
