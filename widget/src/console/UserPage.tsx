// A reader as moderators see them: record, recent comments, audit, and sanctions.
import { useEffect, useState } from "preact/hooks";
import { message, useConsole, when } from "./context";
import { Timeline } from "./dialogs";
import type { AuditEntry, UserPage as User, UserStatus } from "./types";

const STATUSES: UserStatus[] = ["active", "premod", "suspended", "banned"];

export function UserPage({ userId }: { userId: string }) {
  const { api, t } = useConsole();
  const [user, setUser] = useState<User | null>(null);
  const [audit, setAudit] = useState<AuditEntry[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useState<UserStatus>("premod");
  const [until, setUntil] = useState("");
  const [reason, setReason] = useState("");
  const [cascade, setCascade] = useState(false);
  const [done, setDone] = useState<string | null>(null);

  const load = () => {
    api.user(userId).then(setUser, (e) => setError(message(e)));
    api.userHistory(userId).then((p) => setAudit(p.items), () => setAudit([]));
  };
  useEffect(load, [userId]);

  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setDone(null);
    try {
      const result = await api.setStatus(userId, {
        status, reason, reject_comments: cascade,
        ...(status === "suspended" && until ? { until: new Date(until).toISOString() } : {}),
      });
      setUser(result.user);
      setDone(`${result.user.status}${result.rejected_comment_ids.length ? ` · ${result.rejected_comment_ids.length} rejected` : ""}`);
      api.userHistory(userId).then((p) => setAudit(p.items), () => undefined);
    } catch (err) {
      setError(message(err));
    }
  };

  if (!user) return <section aria-label={t.userPage}>{error ? <p role="alert">{error}</p> : <p>…</p>}</section>;
  return (
    <section class="user" aria-labelledby="user-h">
      <h2 id="user-h">{user.name} <span class="muted">({user.id})</span> <span class={`badge status-${user.effective_status}`}>{user.effective_status}</span></h2>
      <p>{t.record(user.approved_count, user.rejected_count, user.reported_count)} · {user.pending_count} pending · {user.held_count} held</p>
      {user.status_reason ? <p class="muted">{user.status_reason}{user.suspended_until ? ` (until ${when(user.suspended_until)})` : ""}</p> : null}
      <form class="sanction" onSubmit={submit} aria-label={t.sanction}>
        <h3>{t.sanction}</h3>
        <label>{t.status}
          <select value={status} onChange={(e) => setStatus((e.target as HTMLSelectElement).value as UserStatus)}>
            {STATUSES.map((s) => <option key={s} value={s}>{s}</option>)}
          </select>
        </label>
        {status === "suspended" ? (
          <label>{t.until}
            <input type="datetime-local" required value={until} onInput={(e) => setUntil((e.target as HTMLInputElement).value)} />
          </label>
        ) : null}
        <label>{t.sanctionReason}
          <input type="text" required maxLength={500} value={reason} onInput={(e) => setReason((e.target as HTMLInputElement).value)} />
        </label>
        {status === "banned" || status === "suspended" ? (
          <label class="check">
            <input type="checkbox" checked={cascade} onChange={(e) => setCascade((e.target as HTMLInputElement).checked)} />
            {t.cascade}
          </label>
        ) : null}
        <button type="submit">{t.save}</button>
        {error ? <p role="alert" class="notice error">{error}</p> : null}
        {done ? <p role="status" class="notice info">{done}</p> : null}
      </form>
      <h3>{t.recent}</h3>
      <ul class="plain">
        {user.recent_comments.map((c) => (
          <li key={c.id}>
            <span class={`badge status-${c.status}`}>{c.status}</span> {c.excerpt}{" "}
            <span class="muted">{c.article_id} · {when(c.created_at)}</span>
          </li>
        ))}
      </ul>
      <h3>{t.history}</h3>
      <Timeline entries={audit} />
    </section>
  );
}
