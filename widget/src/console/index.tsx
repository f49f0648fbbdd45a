// The console's entry: sign-in (token from the URL fragment, the host's login page, or a
// pasted token), the staff check, then the console itself.
import { render } from "preact";
import { useState } from "preact/hooks";
import { Api, ApiError } from "./api";
import { App } from "./App";
import { ConsoleContext, type Console } from "./context";
import { en } from "./i18n";
import { ConsoleLive } from "./live";
import { clearToken, loginUrl, saveToken, takeToken } from "./session";
import css from "./style.css";

const t = en;

function SignIn({ notice, login, onToken }: { notice: string | null; login: string | null; onToken(token: string): void }) {
  const [token, setToken] = useState("");
  return (
    <main class="signin">
      <h1>{t.title}</h1>
      {notice ? <p role="alert" class="notice error">{notice}</p> : null}
      {login ? <p><a href={loginUrl(login)}>{t.goLogin}</a></p> : null}
      <form onSubmit={(e) => { e.preventDefault(); if (token.trim()) onToken(token.trim()); }}>
        <p>{t.signInIntro}</p>
        <label for="token">{t.tokenLabel}</label>
        <textarea id="token" rows={4} autoComplete="off" spellcheck={false} value={token} onInput={(e) => setToken((e.target as HTMLTextAreaElement).value)} />
        <button type="submit">{t.signIn}</button>
      </form>
    </main>
  );
}

let current: ConsoleLive | null = null;

async function start(root: HTMLElement, token: string | null, notice: string | null, redirect: boolean): Promise<void> {
  current?.close();
  current = null;
  if (token) {
    const api = new Api(token);
    try {
      const session = await api.session();
      const live = new ConsoleLive(token);
      current = live;
      const value: Console = { api, live, session, t };
      const signOut = () => { clearToken(); live.close(); void start(root, null, null, false); };
      api.onUnauthorized = () => { clearToken(); live.close(); void start(root, null, t.expired, false); };
      render(<ConsoleContext.Provider value={value}><App onSignOut={signOut} /></ConsoleContext.Provider>, root);
      return;
    } catch (e) {
      clearToken();
      notice = e instanceof ApiError && e.status === 403 ? t.notStaff : e instanceof ApiError && e.status === 401 ? t.expired : String(e);
      redirect = false;
    }
  }
  let login: string | null = null;
  try {
    login = (await Api.config()).login_url;
  } catch {
    login = null;
  }
  if (login && redirect) {
    location.assign(loginUrl(login));
    return;
  }
  const onToken = (fresh: string) => { saveToken(fresh); void start(root, fresh, null, false); };
  render(<SignIn notice={notice} login={login} onToken={onToken} />, root);
}

function adoptStyles(): void {
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

const root = document.getElementById("baraza-console");
if (root) {
  adoptStyles();
  root.textContent = "";
  const arrival = takeToken();
  void start(root, arrival.token, arrival.leakedInQuery ? t.queryToken : null, !arrival.leakedInQuery);
  // A link with a fresh #token=… opened in this tab signs in again without a reload.
  addEventListener("hashchange", () => {
    if (!/[#&]token=/.test(location.hash)) return;
    const fresh = takeToken();
    render(null, root);
    void start(root, fresh.token, null, false);
  });
}
