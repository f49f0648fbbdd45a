// Count spans (section pages): every span on the page filled from one GET /articles/counts.
import type { Api } from "./api";

const MAX_IDS = 100; // the API's limit per request

export async function fillCounts(api: Api, spans: HTMLElement[], format: (n: number) => string): Promise<void> {
  const ids = [...new Set(spans.map((s) => s.dataset.articleId || "").filter(Boolean))];
  for (let i = 0; i < ids.length; i += MAX_IDS) {
    const { counts } = await api.counts(ids.slice(i, i + MAX_IDS));
    for (const span of spans) {
      const id = span.dataset.articleId || "";
      if (id in counts) span.textContent = format(counts[id]);
    }
  }
}
