// What every component of a mount needs: the API client, the live connection, the session
// and the strings, passed down by one Preact context.
import { createContext } from "preact";
import { useContext } from "preact/hooks";
import type { Api } from "./api";
import { ApiError } from "./api";
import type { Translate } from "./i18n";
import type { Live } from "./live";
import type { Session } from "./session";

export interface Env {
  api: Api;
  live: Live;
  session: Session;
  t: Translate;
  lang: string;
  loginUrl: string | null;
  maxChars: number;
}

export const EnvContext = createContext<Env | null>(null);

export function useEnv(): Env {
  const env = useContext(EnvContext);
  if (!env) throw new Error("Baraza component outside a mount");
  return env;
}

/** The message to show for a failed call: the server's own words, else a translated fallback. */
export function errorText(env: Env, error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 0) return env.t("networkError");
    if (error.status === 401) return env.t("sessionExpired");
    return error.message;
  }
  return env.t("networkError");
}

export function formatTime(iso: string | null, lang: string): string {
  if (!iso) return "";
  try {
    return new Date(iso).toLocaleString(lang, { dateStyle: "medium", timeStyle: "short" });
  } catch {
    return iso;
  }
}
