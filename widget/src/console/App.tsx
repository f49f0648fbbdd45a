// The signed-in console: navigation, queue tabs with live counts, and the page of the route.
import { useEffect, useState } from "preact/hooks";
import { canEdit, canModerate, isAdmin, useConsole } from "./context";
import { DeadLetters } from "./DeadLetters";
import { Desk } from "./Desk";
import type { LiveState } from "./live";
import { Policy } from "./Policy";
import { Queue } from "./Queue";
import { QUEUES, type QueueFilters, type QueueName } from "./types";
import { UserPage } from "./UserPage";
import { Words } from "./Words";

type Route =
  | { page: "queue"; queue: QueueName }
  | { page: "user"; id: string }
  | { page: "deadletters" } | { page: "policy" } | { page: "words" }
  | { page: "desk"; article: string };

function parse(hash: string, fallback: Route): Route {
  const [, page = "", arg = ""] = hash.replace(/^#/, "").split("/");
  const value = decodeURIComponent(arg);
  if (page === "queue" && (QUEUES as string[]).includes(value)) return { page, queue: value as QueueName };
  if (page === "user" && value) return { page, id: value };
  if (page === "deadletters" || page === "policy" || page === "words") return { page };
  if (page === "desk") return { page, article: value };
  return fallback;
}

function useRoute(fallback: Route): Route {
  const [route, setRoute] = useState(() => parse(location.hash, fallback));
  useEffect(() => {
    const onHash = () => setRoute(parse(location.hash, fallback));
    addEventListener("hashchange", onHash);
    return () => removeEventListener("hashchange", onHash);
  }, []);
  return route;
}

function useCounts(enabled: boolean): Partial<Record<QueueName, number>> {
  const { api, live } = useConsole();
  const [counts, setCounts] = useState<Partial<Record<QueueName, number>>>({});
  useEffect(() => {
    if (!enabled) return undefined;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const refetch = () => api.counts().then((c) => setCounts(c.counts), () => undefined);
    void refetch();
    const stop = live.subscribe("moderation", {
      event(event) {
        if (event.type === "queue.counts") {
          setCounts((old) => ({ ...old, ...(event.data as Partial<Record<QueueName, number>>) }));
        } else if (event.type === "comment.decided" && !timer) {
          // Rejected and approved are not in queue.counts: refetch, at most once a second.
          timer = setTimeout(() => { timer = null; void refetch(); }, 1000);
        }
      },
      resync: () => void refetch(),
    });
    return () => { stop(); if (timer) clearTimeout(timer); };
  }, [enabled]);
  return counts;
}

export function App({ onSignOut }: { onSignOut(): void }) {
  const { session, live, t } = useConsole();
  const moderator = canModerate(session);
  const route = useRoute(moderator ? { page: "queue", queue: "held" } : { page: "desk", article: "" });
  const counts = useCounts(moderator);
  const [filters, setFilters] = useState<QueueFilters>({});
  const [state, setState] = useState<LiveState>(live.state);
  useEffect(() => live.onState(setState), []);

  const link = (href: string, label: string, current: boolean) => (
    <a href={href} aria-current={current ? "page" : undefined}>{label}</a>
  );
  return (
    <div class="console">
      <header class="top">
        <h1>{t.title}</h1>
        <nav aria-label="Console">
          {moderator ? link("#/queue/held", t.queues, route.page === "queue") : null}
          {moderator ? link("#/deadletters", t.deadLetters, route.page === "deadletters") : null}
          {isAdmin(session) ? link("#/policy", t.policy, route.page === "policy") : null}
          {isAdmin(session) ? link("#/words", t.words, route.page === "words") : null}
          {canEdit(session) ? link("#/desk/", t.desk, route.page === "desk") : null}
        </nav>
        <span class={`conn ${state}`} role="status">{state === "open" ? t.live : t.offline}</span>
        <span class="who">{session.name}</span>
        <button type="button" class="link" onClick={onSignOut}>{t.signOut}</button>
      </header>
      <main>
        {route.page === "queue" && moderator ? (
          <>
            <nav class="tabs" aria-label={t.queues}>
              {QUEUES.map((q) => (
                <a key={q} href={`#/queue/${q}`} aria-current={route.queue === q ? "page" : undefined}>
                  {t[q]} <span class="count" data-queue={q}>{counts[q] ?? "…"}</span>
                </a>
              ))}
            </nav>
            <Queue queue={route.queue} filters={filters} onFilters={setFilters} />
          </>
        ) : null}
        {route.page === "user" && moderator ? <UserPage userId={route.id} /> : null}
        {route.page === "deadletters" && moderator ? <DeadLetters /> : null}
        {route.page === "policy" && isAdmin(session) ? <Policy /> : null}
        {route.page === "words" && isAdmin(session) ? <Words /> : null}
        {route.page === "desk" && canEdit(session) ? <Desk articleId={route.article} /> : null}
      </main>
    </div>
  );
}
