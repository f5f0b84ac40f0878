import { defineConfig } from "@playwright/test";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { ICONS, IDP, IDP_PORT, ICONS_PORT } from "./ports";

const __dirname = path.dirname(fileURLToPath(import.meta.url));

// Every spec runs twice: hydrated (JavaScript on) and as plain HTML forms (JavaScript off).
// Each spec gets a Portcullis server and database of its own (the `server` fixture,
// tests/fixtures.ts), so it passes alone and in any order: `npx playwright test
// tests/picker.spec.ts`. PORTCULLIS_BIN picks the binary (scripts/test.sh uses the unoptimised
// one its integration tests already built), PORTCULLIS_E2E_SITE the site directory
// (target/site otherwise). What the specs share is started here, on free ports (ports.ts).
const out = path.join(__dirname, "test-results");

// The selfh.st sample in fixtures/selfhst, served locally as the icon catalogue.
const icons = {
  command: `node ${path.join(__dirname, "icons/serve.mjs")}`,
  url: `${ICONS}/stats`,
  reuseExistingServer: false,
  timeout: 30_000,
  env: { ICONS_PORT: String(ICONS_PORT) },
  stdout: "ignore" as const,
  stderr: "pipe" as const,
};

// A real OpenID Provider (npm oidc-provider). Each spec registers a client of its own for its
// server's redirect URI (the `testIdp` fixture), so the provider accepts exactly that URI.
const idp = {
  command: `node ${path.join(__dirname, "oidc/provider.mjs")}`,
  url: `${IDP}/.well-known/openid-configuration`,
  reuseExistingServer: false,
  timeout: 30_000,
  env: { OIDC_PORT: String(IDP_PORT), OIDC_OPEN_REGISTRATION: "1" },
  stdout: "ignore" as const,
  stderr: "pipe" as const,
};

export default defineConfig({
  testDir: "./tests",
  outputDir: out + "/artifacts",
  // The tests of one spec in order, two specs at a time: with password hashing optimised in
  // the debug server (Cargo.toml), one worker left a core idle much of the run (the whole
  // suite 4.7 min alone; 4.3 min with two workers while a cargo build held both cores).
  fullyParallel: false,
  workers: 2,
  retries: 0,
  timeout: 30_000,
  // A wedged run fails with a report instead of eating the CI budget.
  globalTimeout: 20 * 60_000,
  reporter: [["list"]],
  use: {
    // No trace: recording one for every test (to keep it on failure) was a quarter of the
    // suite's CPU (the js project alone: 184 s with it, 135 s without, 2026-12-07), and a
    // run's traces are kept nowhere CI shows. A failing spec is rerun with
    // `npx playwright test <spec> --trace on`; its screenshot at the failure is kept anyway.
    trace: "off",
    screenshot: "only-on-failure",
    // Chromium's headless shell (Debian chromium-headless-shell), the browser Playwright runs
    // headless tests in: the run is CPU-bound on 2 cores, and the full browser in its new
    // headless mode cost 40 % more CPU for the same pages (4.3 → 3.1 min). WebAssembly stays
    // on its baseline compiler (no tier-up): each test's fresh context compiled the bundle a
    // second time, optimised, for pages that live a few seconds (3.1 → 2.5 min). The
    // benchmarks (bench/) launch the same shell with V8's defaults.
    launchOptions: {
      executablePath: "/usr/bin/chromium-headless-shell",
      args: [
        "--js-flags=--no-wasm-tier-up",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
        // Host names of the forward-authentication bench (forward-auth.spec.ts) reach loopback,
        // so cookies for a shared Domain behave as in production; no /etc/hosts edits.
        "--host-resolver-rules=MAP *.portcullis.test 127.0.0.1",
      ],
    },
  },
  projects: [
    { name: "js", use: { javaScriptEnabled: true } },
    { name: "nojs", use: { javaScriptEnabled: false } },
  ],
  webServer: [icons, idp],
});
