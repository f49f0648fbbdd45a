// Sign-in: the token arrives in the URL fragment (#token=JWT) from the host site's login page
// or from `baraza token --console`, and lives in sessionStorage for this tab only.
const KEY = "baraza.console.token";

export interface Arrival {
  token: string | null;
  /** A token was found in the query string: dropped, and the user is warned. */
  leakedInQuery: boolean;
}

/** Take a token from the fragment (then remove it from the address bar), else the stored one. */
export function takeToken(): Arrival {
  const params = new URLSearchParams(location.search);
  const leakedInQuery = params.has("token");
  const hash = new URLSearchParams(location.hash.replace(/^#/, ""));
  const fresh = hash.get("token");
  if (fresh || leakedInQuery) {
    // Where to go after signing in (`#token=…&next=/queue/held`), never the token itself.
    const next = hash.get("next");
    const route = next && next.startsWith("/") ? next : "/";
    history.replaceState(null, "", `${location.pathname}#${route}`);
  }
  if (fresh) {
    saveToken(fresh);
    return { token: fresh, leakedInQuery };
  }
  return { token: storedToken(), leakedInQuery };
}

export function storedToken(): string | null {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}

export function saveToken(token: string): void {
  try {
    sessionStorage.setItem(KEY, token);
  } catch {
    /* private mode: the token lives as long as the page */
  }
}

export function clearToken(): void {
  try {
    sessionStorage.removeItem(KEY);
  } catch {
    /* nothing stored */
  }
}

/** Send a signed-out visitor to the host site's login page, asking to come back here. */
export function loginUrl(base: string): string {
  const back = `${location.origin}${location.pathname}`;
  const url = new URL(base);
  url.searchParams.set("return_to", back);
  return url.toString();
}
