// Modal dialogs of the queue: the reason for a rejection, the keyboard help, a comment's audit.
import { useEffect, useRef, useState } from "preact/hooks";
import type { ComponentChildren } from "preact";
import { message, useConsole, when } from "./context";
import { REASONS, type AuditEntry, type ReasonCode } from "./types";

function Modal({ label, onClose, children }: { label: string; onClose(): void; children: ComponentChildren }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const previous = document.activeElement as HTMLElement | null;
    const first = box.current?.querySelector<HTMLElement>("input, button, select, textarea, [tabindex]");
    first?.focus();
    return () => previous?.focus();
  }, []);
  return (
    <div class="backdrop" onClick={(e) => e.target === e.currentTarget && onClose()}>
      <div
        ref={box} class="modal" role="dialog" aria-modal="true" aria-label={label}
        onKeyDown={(e) => {
          if (e.key === "Escape") { e.stopPropagation(); onClose(); }
        }}
      >
        {children}
      </div>
    </div>
  );
}

export function RejectDialog({ count, onConfirm, onClose }: {
  count: number; onConfirm(reason: ReasonCode): void; onClose(): void;
}) {
  const { t } = useConsole();
  const [reason, setReason] = useState<ReasonCode>("abuse");
  return (
    <Modal label={t.rejectReason} onClose={onClose}>
      <form
        onSubmit={(e) => { e.preventDefault(); onConfirm(reason); }}
        onKeyDown={(e) => {
          const n = Number(e.key);
          if (n >= 1 && n <= REASONS.length) { e.preventDefault(); onConfirm(REASONS[n - 1]); }
        }}
      >
        <fieldset>
          <legend>{t.rejectReason} ({count})</legend>
          {REASONS.map((r, i) => (
            <label key={r} class="radio">
              <input type="radio" name="reason" value={r} checked={reason === r} onChange={() => setReason(r)} />
              <kbd>{i + 1}</kbd> {r.replace(/_/g, " ")}
            </label>
          ))}
        </fieldset>
        <div class="row">
          <button type="submit" class="danger">{t.confirmReject}</button>
          <button type="button" onClick={onClose}>{t.cancel}</button>
        </div>
      </form>
    </Modal>
  );
}

export const KEYS: [string, string][] = [
  ["j / ↓", "next comment"], ["k / ↑", "previous comment"], ["a", "approve (the selection, if any)"],
  ["r", "reject with a reason (1–7 picks one)"], ["f", "feature / unfeature"],
  ["x", "select or unselect"], ["X", "select all on the page (up to 500) / clear"],
  ["h", "audit timeline"], ["u", "the author's page"], ["?", "this help"], ["Esc", "close"],
];

export function KeysHelp({ onClose }: { onClose(): void }) {
  const { t } = useConsole();
  return (
    <Modal label={t.keys} onClose={onClose}>
      <h2>{t.keys}</h2>
      <dl class="keys">
        {KEYS.map(([k, what]) => (
          <div key={k}><dt><kbd>{k}</kbd></dt><dd>{what}</dd></div>
        ))}
      </dl>
      <button type="button" onClick={onClose}>{t.close}</button>
    </Modal>
  );
}

export function Timeline({ entries }: { entries: AuditEntry[] }) {
  return (
    <ol class="timeline">
      {entries.map((e) => (
        <li key={e.id}>
          <time dateTime={e.created_at}>{when(e.created_at)}</time>{" "}
          <strong>{e.action}</strong> by {e.actor_id}
          {e.before || e.after ? ` (${e.before ?? "–"} → ${e.after ?? "–"})` : ""}
          {e.reason ? <span class="muted"> — {e.reason}</span> : null}
        </li>
      ))}
    </ol>
  );
}

export function HistoryDialog({ commentId, onClose }: { commentId: number; onClose(): void }) {
  const { api, t } = useConsole();
  const [entries, setEntries] = useState<AuditEntry[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api.commentHistory(commentId).then((p) => setEntries(p.items), (e) => setError(message(e)));
  }, [commentId]);
  return (
    <Modal label={`${t.history} ${commentId}`} onClose={onClose}>
      <h2>{t.history} · {commentId}</h2>
      {error ? <p role="alert">{error}</p> : entries ? <Timeline entries={entries} /> : <p>…</p>}
      <button type="button" onClick={onClose}>{t.close}</button>
    </Modal>
  );
}
