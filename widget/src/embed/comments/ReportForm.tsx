// "Report": a reason from the fixed list and an optional note.
import { useState } from "preact/hooks";
import { errorText, useEnv } from "../env";
import { REPORT_REASONS, type ReportReason } from "../types";

export function ReportForm({ commentId, onDone }: { commentId: number; onDone(): void }) {
  const env = useEnv();
  const { t } = env;
  const [reason, setReason] = useState<ReportReason>("abuse");
  const [note, setNote] = useState("");
  const [state, setState] = useState<"form" | "busy" | "sent">("form");
  const [error, setError] = useState<string | null>(null);
  const id = `baraza-report-${commentId}`;

  if (state === "sent") return <p class="bz-status" role="status">{t("reported")}</p>;

  const submit = async (event: Event) => {
    event.preventDefault();
    setState("busy");
    setError(null);
    try {
      await env.api.report(commentId, reason, note.trim());
      setState("sent");
    } catch (failure) {
      setError(errorText(env, failure));
      setState("form");
    }
  };

  return (
    <form class="bz-report" onSubmit={submit}>
      <label for={`${id}-reason`} class="bz-label">{t("reportReason")}</label>
      <select id={`${id}-reason`} value={reason} onChange={(e) => setReason((e.currentTarget as HTMLSelectElement).value as ReportReason)}>
        {REPORT_REASONS.map((r) => <option key={r} value={r}>{t(`reason_${r}`)}</option>)}
      </select>
      <label for={`${id}-note`} class="bz-label">{t("reportNote")}</label>
      <input id={`${id}-note`} type="text" maxLength={1000} value={note}
        onInput={(e) => setNote((e.currentTarget as HTMLInputElement).value)} />
      <div class="bz-composer-foot">
        <button type="button" class="bz-button bz-quiet" onClick={onDone}>{t("cancel")}</button>
        <button type="submit" class="bz-button bz-primary" disabled={state === "busy"}>{t("sendReport")}</button>
      </div>
      {error && <p class="bz-error" role="alert">{error}</p>}
    </form>
  );
}
