import { createContext } from "preact";
import { useContext } from "preact/hooks";
import type { Api } from "./api";
import type { Strings } from "./i18n";
import type { ConsoleLive } from "./live";
import type { ConsoleSession } from "./types";

export interface Console {
  api: Api;
  live: ConsoleLive;
  session: ConsoleSession;
  t: Strings;
}

export const ConsoleContext = createContext<Console | null>(null);

export function useConsole(): Console {
  const value = useContext(ConsoleContext);
  if (!value) throw new Error("ConsoleContext missing");
  return value;
}

export function isAdmin(session: ConsoleSession): boolean {
  return session.roles.includes("admin");
}
export function canModerate(session: ConsoleSession): boolean {
  return isAdmin(session) || session.roles.includes("moderator");
}
export function canEdit(session: ConsoleSession): boolean {
  return isAdmin(session) || session.roles.includes("editor");
}

// One formatter for the page: toLocaleString with options builds a new one per call, which
// was a tenth of a 100-item queue's render (docs/benchmarks.md).
let dates: Intl.DateTimeFormat | null = null;

export function when(iso: string | null | undefined): string {
  if (!iso) return "";
  dates ??= new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
  return dates.format(new Date(iso));
}

export function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
