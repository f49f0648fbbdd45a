// The embed script: reads its configuration from its own <script> tag, exposes window.Baraza,
// and mounts every [data-baraza] element of the page (comments, liveblog, count).
import { render } from "preact";
import { Api } from "./api";
import { fillCounts } from "./count";
import { EnvContext, type Env } from "./env";
import { pickLanguage, translator } from "./i18n";
import { Live } from "./live";
import { Thread } from "./comments/Thread";
import { LiveBlog } from "./liveblog/LiveBlog";
import { Session } from "./session";
import css from "./style.css";

declare global {
  interface Window {
    Baraza?: BarazaGlobal;
  }
}

export interface BarazaGlobal {
  setToken(token: string | null): void;
  onTokenExpired(fn: () => Promise<string | null> | string | null): void;
  /** Mount [data-baraza] elements added after the page loaded (e.g. by a single-page app). */
  mount(root?: ParentNode): void;
  version: string;
}

const MOUNTED = "barazaMounted";

function ownScript(): HTMLScriptElement | null {
  const current = document.currentScript;
  if (current instanceof HTMLScriptElement) return current;
  return document.querySelector<HTMLScriptElement>("script[data-baraza-api]");
}

function apiBase(script: HTMLScriptElement | null): string {
  const configured = script?.dataset.barazaApi;
  if (configured) return configured.replace(/\/+$/, "");
  if (script?.src) return new URL(script.src).origin;
  return location.origin;
}

function adoptStyles(): void {
  // A constructed stylesheet is not inline CSS: a host CSP without 'unsafe-inline' allows it.
  try {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
    document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
  } catch {
    const style = document.createElement("style");
    style.textContent = css;
    document.head.appendChild(style);
  }
}

function boot(): BarazaGlobal {
  const script = ownScript();
  const session = new Session();
  const base = apiBase(script);
  const api = new Api(base, session);
  const live = new Live(base, session);
  adoptStyles();

  const envFor = (el: HTMLElement): Env => {
    const lang = pickLanguage(el.dataset.barazaLang, script?.dataset.barazaLang, document.documentElement.lang);
    return {
      api, live, session, lang, t: translator(lang),
      loginUrl: el.dataset.barazaLoginUrl || script?.dataset.barazaLoginUrl || null,
      maxChars: Number(el.dataset.barazaMaxChars || script?.dataset.barazaMaxChars) || 5000,
    };
  };

  const mount = (root: ParentNode = document) => {
    const counts: HTMLElement[] = [];
    root.querySelectorAll<HTMLElement>("[data-baraza]").forEach((el) => {
      const kind = el.dataset.baraza;
      const articleId = el.dataset.articleId;
      if (!articleId || el.dataset[MOUNTED]) return;
      if (kind === "count") {
        counts.push(el);
        return;
      }
      if (kind !== "comments" && kind !== "liveblog") return;
      el.dataset[MOUNTED] = "1";
      const env = envFor(el);
      el.classList.add("baraza");
      el.setAttribute("lang", env.lang);
      const maxDepth = Number(el.dataset.barazaMaxDepth) || 3;
      render(
        <EnvContext.Provider value={env}>
          {kind === "comments" ? <Thread articleId={articleId} maxDepth={maxDepth} /> : <LiveBlog articleId={articleId} />}
        </EnvContext.Provider>,
        el,
      );
    });
    if (counts.length) {
      counts.forEach((el) => { el.dataset[MOUNTED] = "1"; });
      const t = envFor(counts[0]).t;
      const format = (n: number) => (n === 1 ? t("commentCountOne") : t("commentCount", { n }));
      void fillCounts(api, counts, format).catch(() => undefined);
    }
  };

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", () => mount());
  else mount();

  return {
    setToken: (token) => session.setToken(token),
    onTokenExpired: (fn) => session.onTokenExpired(fn),
    mount,
    version: "1",
  };
}

// A host may call Baraza.setToken before this script arrives: `window.Baraza = {token: "..."}`
// or a queued token is picked up.
const early = (window as unknown as { Baraza?: { token?: string } }).Baraza;
const baraza = boot();
if (early && typeof early.token === "string") baraza.setToken(early.token);
window.Baraza = baraza;
// Hosts loading this script with `async` wait for this before calling Baraza.setToken.
document.dispatchEvent(new CustomEvent("baraza:ready"));
