import { defineConfig } from "@playwright/test";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { ICONS, ICONS_PORT, IDP, IDP_PORT, JS_PORT, NOJS_PORT } from "./ports";

const __dirname = path.dirname(fileURLToPath(import.meta.url));

// Every spec runs twice: hydrated (JavaScript on) and as plain HTML forms (JavaScript off),
// each against its own server with a fresh SQLite database, all on free ports (ports.ts).
// PORTCULLIS_BIN picks the binary (scripts/test.sh uses the unoptimised one its integration
// tests already built). Each spec sets up what it needs itself (helpers.ts: ensureUser,
// ensureTestIdp), so one runs alone: `npx playwright test tests/picker.spec.ts`.
const root = path.resolve(__dirname, "..");
const bin = process.env.PORTCULLIS_BIN ?? path.join(root, "target/release/portcullis");
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

// Each run's data directories are its own (named by port: two runs in one checkout do not
// share a database), left for a look after the run and cleared by a later one.
if (process.env.PORTCULLIS_E2E_CLEANED === undefined) {
  process.env.PORTCULLIS_E2E_CLEANED = "1"; // once per run: the workers load this file again
  const hourAgo = Date.now() - 3_600_000;
  for (const entry of fs.existsSync(out) ? fs.readdirSync(out) : []) {
    const dir = path.join(out, entry);
    if (entry.startsWith("data-") && fs.statSync(dir).mtimeMs < hourAgo) fs.rmSync(dir, { recursive: true, force: true });
  }
}

function server(name: string, port: number) {
  const dataDir = path.join(out, `data-${name}-${port}`);
  return {
    dataDir,
    baseURL: `http://127.0.0.1:${port}`,
    webServer: {
      command:
        `rm -rf '${dataDir}' && exec '${bin}' --listen 127.0.0.1:${port} --data-dir '${dataDir}'` +
        ` --icon-index-url ${ICONS}/index.json --icon-base-url ${ICONS}`,
      url: `http://127.0.0.1:${port}/healthz`,
      reuseExistingServer: false,
      timeout: 60_000,
      env: { LEPTOS_SITE_ROOT: path.join(root, "target/site"), PORTCULLIS_LOG: "warn" },
      stdout: "pipe" as const,
      stderr: "pipe" as const,
    },
  };
}

const js = server("js", JS_PORT);
const nojs = server("nojs", NOJS_PORT);

// A real OpenID Provider (npm oidc-provider) shared by both servers.
const idp = {
  command: `node ${path.join(__dirname, "oidc/provider.mjs")}`,
  url: `${IDP}/.well-known/openid-configuration`,
  reuseExistingServer: false,
  timeout: 30_000,
  env: {
    OIDC_PORT: String(IDP_PORT),
    OIDC_REDIRECT_URIS: [js.baseURL, nojs.baseURL].map((b) => `${b}/login/test-idp`).join(","),
  },
  stdout: "ignore" as const,
  stderr: "pipe" as const,
};

export default defineConfig({
  testDir: "./tests",
  outputDir: out + "/artifacts",
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 30_000,
  // A wedged run fails with a report instead of eating the CI budget.
  globalTimeout: 20 * 60_000,
  reporter: [["list"]],
  use: {
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: "/usr/bin/chromium",
      args: [
        "--headless",
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
    {
      name: "js",
      use: { baseURL: js.baseURL, javaScriptEnabled: true },
      metadata: { dataDir: js.dataDir },
    },
    {
      name: "nojs",
      use: { baseURL: nojs.baseURL, javaScriptEnabled: false },
      metadata: { dataDir: nojs.dataDir },
    },
  ],
  webServer: [icons, js.webServer, nojs.webServer, idp],
});
