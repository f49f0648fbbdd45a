// The form that posts a comment or a reply, or edits one: a labelled textarea, a character
// counter near the limit, and the server's message inline when the call fails.
import { useRef, useState } from "preact/hooks";
import { errorText, useEnv } from "../env";

const COUNTER_FROM = 200; // characters left when the counter appears

interface Props {
  label: string;
  submitLabel: string;
  initial?: string;
  autoFocus?: boolean;
  onSubmit(body: string): Promise<void>;
  onCancel?(): void;
}

export function Composer({ label, submitLabel, initial = "", autoFocus, onSubmit, onCancel }: Props) {
  const env = useEnv();
  const { t } = env;
  const [body, setBody] = useState(initial);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const area = useRef<HTMLTextAreaElement>(null);
  const ids = useRef(`baraza-${Math.random().toString(36).slice(2, 9)}`).current;
  const left = env.maxChars - body.length;

  const submit = async (event: Event) => {
    event.preventDefault();
    if (busy || !body.trim() || left < 0) return;
    setBusy(true);
    setError(null);
    try {
      await onSubmit(body);
      setBody("");
      area.current?.focus();
    } catch (failure) {
      setError(errorText(env, failure));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="bz-composer" onSubmit={submit} noValidate>
      <label for={`${ids}-body`} class="bz-label">{label}</label>
      <textarea
        id={`${ids}-body`} ref={area} value={body} rows={3} autoFocus={autoFocus}
        aria-describedby={`${ids}-count ${ids}-error`} aria-invalid={error ? "true" : undefined}
        onInput={(e) => setBody((e.currentTarget as HTMLTextAreaElement).value)}
      />
      <div class="bz-composer-foot">
        <span id={`${ids}-count`} class={left < 0 ? "bz-count bz-over" : "bz-count"} aria-live="polite">
          {left <= COUNTER_FROM ? (left < 0 ? t("charsOver", { n: -left }) : t("charsLeft", { n: left })) : ""}
        </span>
        {onCancel && <button type="button" class="bz-button bz-quiet" onClick={onCancel}>{t("cancel")}</button>}
        <button type="submit" class="bz-button bz-primary" disabled={busy || !body.trim() || left < 0}>
          {submitLabel}
        </button>
      </div>
      <p id={`${ids}-error`} class="bz-error" role={error ? "alert" : undefined}>{error}</p>
    </form>
  );
}
