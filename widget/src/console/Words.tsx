// Word lists (admins) and the test box: what the matcher finds, through look-alikes,
// leetspeak, spacing and zero-width characters, with the lists as edited (saved or not).
import { useEffect, useState } from "preact/hooks";
import { message, useConsole } from "./context";
import type { WordTestResponse, WordlistKind } from "./types";

const lines = (text: string) => text.split("\n").map((l) => l.trim()).filter(Boolean);

export function Words() {
  const { api, t } = useConsole();
  const [lists, setLists] = useState<Record<WordlistKind, string>>({ banned: "", suspect: "" });
  const [text, setText] = useState("");
  const [result, setResult] = useState<WordTestResponse | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    Promise.all([api.wordlist("banned"), api.wordlist("suspect")]).then(
      ([b, s]) => setLists({ banned: b.words.join("\n"), suspect: s.words.join("\n") }),
      (e) => setError(message(e)),
    );
  }, []);

  const save = async (kind: WordlistKind) => {
    setError(null);
    try {
      const saved = await api.saveWordlist(kind, lines(lists[kind]));
      setLists({ ...lists, [kind]: saved.words.join("\n") });
      setNote(`${kind} v${saved.version}: ${saved.words.length} entries`);
    } catch (e) {
      setError(message(e));
    }
  };
  const test = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      setResult(await api.testWords(text, lines(lists.banned), lines(lists.suspect)));
    } catch (err) {
      setError(message(err));
    }
  };

  return (
    <section aria-labelledby="words-h">
      <h2 id="words-h">{t.words}</h2>
      <div class="columns">
        {(["banned", "suspect"] as WordlistKind[]).map((kind) => (
          <div key={kind}>
            <label for={`list-${kind}`}>{kind === "banned" ? t.banned : t.suspect}</label>
            <textarea id={`list-${kind}`} rows={10} value={lists[kind]} onInput={(e) => setLists({ ...lists, [kind]: (e.target as HTMLTextAreaElement).value })} />
            <button type="button" onClick={() => save(kind)}>{t.save} {kind}</button>
          </div>
        ))}
      </div>
      <form onSubmit={test} aria-label={t.testBox}>
        <label for="word-test">{t.testBox}</label>
        <textarea id="word-test" rows={3} value={text} onInput={(e) => setText((e.target as HTMLTextAreaElement).value)} />
        <button type="submit">{t.test}</button>
      </form>
      {result ? (
        <div class="panel" role="status" aria-label="test result">
          <p><strong>{t.normalized}:</strong> <code>{result.normalized}</code></p>
          <p><strong>{t.banned}:</strong> <span data-banned>{result.banned.join(", ") || "–"}</span></p>
          <p><strong>{t.suspect}:</strong> <span data-suspect>{result.suspect.join(", ") || "–"}</span></p>
          <p><span class={`badge status-${result.outcome}`}>{result.outcome}</span></p>
        </div>
      ) : null}
      {note ? <p role="status" class="notice info">{note}</p> : null}
      {error ? <p role="alert" class="notice error">{error}</p> : null}
    </section>
  );
}
