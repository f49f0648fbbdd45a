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

export function when(iso: string | null | undefined): string {
  if (!iso) return "";
  const d = new Date(iso);
  return d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
