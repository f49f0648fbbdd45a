// The policy (admins): thresholds per label, a dry-run preview over stored scores, save, and
// re-evaluation, which does what the preview showed for the policy in force.
import { useEffect, useState } from "preact/hooks";
import { message, useConsole } from "./context";
import type { PolicyConfig, PolicyOut, PreviewResponse } from "./types";

function num(value: string): number | null {
  if (value.trim() === "") return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

export function Policy() {
  const { api, t } = useConsole();
  const [stored, setStored] = useState<PolicyOut | null>(null);
  const [config, setConfig] = useState<PolicyConfig | null>(null);
  const [limit, setLimit] = useState(500);
  const [preview, setPreview] = useState<PreviewResponse | null>(null);
  const [reason, setReason] = useState("");
  const [note, setNote] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    api.policy().then((p) => { setStored(p); setConfig(p.config); }, (e) => setError(message(e)));
  }, []);
  if (!config) return <section>{error ? <p role="alert">{error}</p> : <p>…</p>}</section>;

  const setThreshold = (label: string, key: "hold" | "reject", value: string) =>
    setConfig({ ...config, thresholds: { ...config.thresholds, [label]: { ...config.thresholds[label], [key]: num(value) } } });

  const run = async (what: () => Promise<void>) => {
    setError(null);
    setNote(null);
    try { await what(); } catch (e) { setError(message(e)); }
  };

  return (
    <section aria-labelledby="policy-h">
      <h2 id="policy-h">{t.policy} <span class="muted">v{stored?.version}</span></h2>
      <form onSubmit={(e) => { e.preventDefault(); void run(async () => setPreview(await api.preview(config, limit))); }}>
        <table class="grid">
          <thead><tr><th scope="col">Label</th><th scope="col">{t.hold}</th><th scope="col">{t.rejectAt}</th></tr></thead>
          <tbody>
            {Object.entries(config.thresholds).map(([label, th]) => (
              <tr key={label}>
                <th scope="row">{label.replace(/_/g, " ")}</th>
                <td><input aria-label={`${label} ${t.hold}`} type="number" min={0} max={1} step={0.01} value={th.hold ?? ""} onInput={(e) => setThreshold(label, "hold", (e.target as HTMLInputElement).value)} /></td>
                <td><input aria-label={`${label} ${t.rejectAt}`} type="number" min={0} max={1} step={0.01} value={th.reject ?? ""} onInput={(e) => setThreshold(label, "reject", (e.target as HTMLInputElement).value)} /></td>
              </tr>
            ))}
          </tbody>
        </table>
        <label>report_hold_count <input type="number" min={0} value={config.report_hold_count} onInput={(e) => setConfig({ ...config, report_hold_count: Number((e.target as HTMLInputElement).value) })} /></label>
        <label>new_author_hold_count <input type="number" min={0} value={config.new_author_hold_count} onInput={(e) => setConfig({ ...config, new_author_hold_count: Number((e.target as HTMLInputElement).value) })} /></label>
        <label class="check"><input type="checkbox" checked={config.hold_unscored} onChange={(e) => setConfig({ ...config, hold_unscored: (e.target as HTMLInputElement).checked })} /> hold_unscored</label>
        <label>{t.lastN} <input type="number" min={1} max={5000} value={limit} onInput={(e) => setLimit(Number((e.target as HTMLInputElement).value))} /></label>
        <div class="row">
          <button type="submit">{t.preview}</button>
        </div>
      </form>
      {preview ? <PreviewReport report={preview} /> : null}
      <form class="row" onSubmit={(e) => { e.preventDefault(); void run(async () => { const saved = await api.savePolicy(config, reason); setStored(saved); setConfig(saved.config); setNote(`saved v${saved.version}`); }); }}>
        <label>{t.saveReason} <input type="text" maxLength={500} value={reason} onInput={(e) => setReason((e.target as HTMLInputElement).value)} /></label>
        <button type="submit">{t.save}</button>
        <button type="button" onClick={() => void run(async () => { const done = await api.applyPolicy(limit); setPreview(done); setNote(`${done.applied} re-decided`); })}>{t.reevaluate}</button>
      </form>
      {note ? <p role="status" class="notice info">{note}</p> : null}
      {error ? <p role="alert" class="notice error">{error}</p> : null}
    </section>
  );
}

function PreviewReport({ report }: { report: PreviewResponse }) {
  const { t } = useConsole();
  const rows: ["approved" | "held" | "rejected", string][] = [["approved", t.approved], ["held", t.held], ["rejected", t.rejected]];
  return (
    <div class="panel" role="region" aria-label={t.preview}>
      <table class="grid" aria-label="outcomes">
        <thead><tr><th scope="col">{report.examined}</th><th scope="col">{t.now}</th><th scope="col">{t.proposed}</th></tr></thead>
        <tbody>
          {rows.map(([key, label]) => (
            <tr key={key}><th scope="row">{label}</th><td>{report.current[key]}</td><td data-outcome={key}>{report.proposed[key]}</td></tr>
          ))}
        </tbody>
      </table>
      <h3>{t.changes}: <span data-changed>{report.changed}</span>{report.applied ? ` · ${report.applied} applied` : ""}</h3>
      <ul class="plain changes">
        {report.changes.map((c) => (
          <li key={c.id} data-comment-id={c.id}>
            <strong>{c.id}</strong> {c.before} → {c.after} <span class="muted">({c.reason})</span> {c.excerpt}
          </li>
        ))}
      </ul>
    </div>
  );
}
