// Benchmark #8: the icon picker's search over the full catalogue, one call per keystroke, in
// Debian Chromium (headless) running the wasm build of `IconSearch`.
//
//   node icon-search.mjs <dir with icon_search_bench.js + .wasm> <catalogue.json>
// Prints JSON: { icons, samples, median_ms, p95_ms }.
// The page is cross-origin isolated (COOP/COEP), which gives performance.now() 5 µs
// resolution instead of 100 µs.
import { chromium } from "@playwright/test";
import { readFileSync } from "node:fs";
import path from "node:path";

const [dir, cataloguePath] = process.argv.slice(2);
const QUERIES = [
  "", "k", "ke", "key", "keyc", "keycl", "keycloak", "keycloack", "a", "au", "auth",
  "authentik", "autheila", "pocket id", "goog", "microsoft", "zitadel", "kanidm", "lldap",
  "nextcloud", "jellyfin", "home assistant", "grafana", "x", "zz", "git", "pihole", "plex",
];
const ROUNDS = 20;

const files = {
  "/index.html": ["text/html", `<!doctype html><script type="module">
    import init, { IconBench } from "/icon_search_bench.js";
    window.run = async (queries, rounds) => {
      await init({ module_or_path: "/icon_search_bench.wasm" });
      const catalogue = await (await fetch("/catalogue.json")).text();
      const bench = new IconBench(catalogue);
      for (const q of queries) bench.search(q); // warm-up
      const samples = [];
      for (let r = 0; r < rounds; r++) {
        for (const q of queries) {
          const t0 = performance.now();
          bench.search(q);
          samples.push(performance.now() - t0);
        }
      }
      return { icons: bench.icons(), samples, isolated: self.crossOriginIsolated };
    };
  </script>`],
  "/icon_search_bench.js": ["text/javascript", readFileSync(path.join(dir, "icon_search_bench.js"))],
  "/icon_search_bench.wasm": ["application/wasm", readFileSync(path.join(dir, "icon_search_bench.wasm"))],
  "/catalogue.json": ["application/json", readFileSync(cataloguePath)],
};

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium-headless-shell",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--no-first-run", "--disable-quic"],
});
const page = await browser.newPage();
await page.route("http://bench.localhost/**", (route) => {
  const file = files[new URL(route.request().url()).pathname];
  if (!file) return route.fulfill({ status: 404 });
  route.fulfill({
    status: 200,
    contentType: file[0],
    body: file[1],
    headers: { "cross-origin-opener-policy": "same-origin", "cross-origin-embedder-policy": "require-corp" },
  });
});
await page.goto("http://bench.localhost/index.html");
await page.waitForFunction(() => typeof window.run === "function");
const { icons, samples, isolated } = await page.evaluate(([q, r]) => window.run(q, r), [QUERIES, ROUNDS]);
await browser.close();
samples.sort((a, b) => a - b);
const at = (p) => samples[Math.min(samples.length - 1, Math.floor(p * samples.length))];
console.log(JSON.stringify({ icons, samples: samples.length, isolated, median_ms: at(0.5), p95_ms: at(0.95), max_ms: samples[samples.length - 1] }));
