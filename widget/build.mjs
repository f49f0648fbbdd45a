// Builds every front-end entry into ../server/static/ (committed; see README.md).
//   node build.mjs           write the bundles, their .gz siblings and a manifest per entry
//   node build.mjs --check   build in memory and fail if the committed files differ
// esbuild's output is deterministic for a given version (package-lock.json pins it).
import { build } from "esbuild";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync, constants } from "node:zlib";

const here = dirname(fileURLToPath(import.meta.url));
const STATIC = join(here, "..", "server", "static");

// One row per entry point: sources under src/<name>/, output under server/static/<out>/.
// A `src/<name>/index.html` is copied next to the bundle when present (the console's page).
export const ENTRIES = [
  { name: "embed", entry: "src/embed/index.tsx", out: "embed/v1", bundle: "baraza.js" },
  { name: "console", entry: "src/console/index.tsx", out: "console", bundle: "console.js" },
];

const sha = (bytes) => createHash("sha256").update(bytes).digest("hex");

async function bundle(spec) {
  const result = await build({
    entryPoints: [join(here, spec.entry)],
    bundle: true,
    write: false,
    minify: true,
    format: "iife",
    target: ["es2019", "chrome80", "firefox78", "safari13"],
    jsx: "automatic",
    jsxImportSource: "preact",
    // CSS is bundled into the script as text and adopted as a constructed stylesheet:
    // one request, and no inline <style> for a host's CSP to refuse.
    loader: { ".css": "text" },
    legalComments: "none",
    charset: "utf8",
    logLevel: "warning",
  });
  const files = { [spec.bundle]: result.outputFiles[0].contents };
  const page = join(here, dirname(spec.entry), "index.html");
  if (existsSync(page)) files["index.html"] = readFileSync(page);
  return files;
}

function outputs(spec, files) {
  const written = {};
  const manifest = {};
  for (const [name, contents] of Object.entries(files)) {
    const gz = gzipSync(contents, { level: constants.Z_BEST_COMPRESSION, mtime: 0 });
    written[name] = contents;
    written[`${name}.gz`] = gz;
    manifest[name] = { sha256: sha(contents), bytes: contents.length, gzip_bytes: gz.length };
  }
  written["manifest.json"] = Buffer.from(JSON.stringify(manifest, null, 2) + "\n");
  return written;
}

const check = process.argv.includes("--check");
let stale = [];
for (const spec of ENTRIES) {
  const dir = join(STATIC, spec.out);
  const written = outputs(spec, await bundle(spec));
  for (const [name, contents] of Object.entries(written)) {
    const path = join(dir, name);
    if (check) {
      if (!existsSync(path) || !Buffer.from(readFileSync(path)).equals(Buffer.from(contents))) {
        stale.push(path);
      }
    } else {
      mkdirSync(dir, { recursive: true });
      writeFileSync(path, contents);
    }
  }
  if (!check) {
    const m = JSON.parse(written["manifest.json"]);
    const sizes = Object.entries(m).map(([n, v]) => `${n} ${v.bytes} B (${v.gzip_bytes} B gzipped)`);
    console.log(`${spec.name}: ${sizes.join(", ")}`);
  }
}
if (stale.length) {
  console.error("built files are stale; run `npm --prefix widget run build` and commit:\n  " + stale.join("\n  "));
  process.exit(1);
}
