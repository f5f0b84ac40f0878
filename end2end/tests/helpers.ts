import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { AxeResults, RunOptions } from "axe-core";
import { Browser, BrowserContext, expect, Locator, Page, TestInfo } from "@playwright/test";
import { ICONS, IDP } from "../ports";
import type { Server, TestIdp } from "./fixtures";

// The element ids, read from app/src/ids.rs.
export { ids } from "./ids";

// The OpenID Provider and the icon host of this run (free ports, chosen in ../ports.ts).
export { ICONS, IDP };

export function jsEnabled(testInfo: TestInfo) {
  return testInfo.project.use.javaScriptEnabled !== false;
}

/** Waits until the page is usable: hydrated when JavaScript is on and the page loads the app
 * (the sign-in page is plain HTML), loaded otherwise. */
export async function ready(page: Page, testInfo: TestInfo) {
  await page.waitForLoadState("load");
  const loadsApp = (await page.locator('link[rel="modulepreload"][href^="/pkg/"]').count()) > 0;
  if (testInfo.project.use.javaScriptEnabled !== false && loadsApp) {
    await expect(page.locator("html[data-hydrated]")).toHaveCount(1);
  }
}

export async function goto(page: Page, testInfo: TestInfo, url: string) {
  await page.goto(url);
  await ready(page, testInfo);
}

/** A browser context on `server` whose pages axe can check (`expectAccessible`): the pages'
 * nonce Content-Security-Policy bypassed (axe-core is injected) and JavaScript on (axe-core's
 * timers stop without it). Without JavaScript (the "nojs" project) means here that the app's
 * own script never loads: the pages stay as the server rendered them, and their forms post as
 * plain HTML forms. */
export async function pagesContext(browser: Browser, server: Server, testInfo: TestInfo): Promise<BrowserContext> {
  const context = await browser.newContext({ baseURL: server.url, bypassCSP: true, javaScriptEnabled: true });
  if (!jsEnabled(testInfo)) await context.route(/\/pkg\//, (route) => route.abort());
  return context;
}

/** Clicks `action` in `item`, then the button of the question it asks: "<action> <name>" (a
 * button that asks first, app/src/components/button_form.rs). */
export async function confirmIn(item: Locator, action: string, name: string) {
  await item.getByText(action, { exact: true }).click();
  await item.getByRole("button", { name: `${action} ${name}` }).click();
}

// What the CLI changes, the server's sign-in page shows within a second (it keeps what it
// shows for that long: src/ssr/login_page.rs, TTL). The specs make such changes in beforeAll,
// on their fresh server before it showed any page, or change what that page does not show.

/** Adds application `name` (at https://<name>.example, open to every user) as an OpenID
 * Connect client with the real CLI, with the client options `client` (`--redirect-uri` ...):
 * its client ID. */
export function addClientApp(server: Server, name: string, client: string[]): string {
  const url = `https://${name.toLowerCase()}.example`;
  const out = server.cli(["app", "add", "--name", name, "--url", url, "--access", "users", ...client]);
  return /client ID: (\S+)/.exec(out)![1];
}

/** Adds a user with the real CLI (email <username>@example.com). */
export function addUser(server: Server, username: string, password: string, admin = false) {
  const args = ["user", "add", "--username", username, "--email", `${username}@example.com`, "--password-stdin"];
  if (admin) args.push("--admin");
  server.cli(args, password + "\n");
}

/** With the CLI, the provider oidc-settings.spec.ts creates through the editor ("Test IdP",
 * slug "test-idp", Allow New Users off), as this spec's client at the test OpenID Provider;
 * and OpenID Connect sign-in turned on. */
export function addTestIdp(server: Server, idp: TestIdp) {
  server.cli(
    ["provider", "add", "--slug", "test-idp", "--name", "Test IdP", "--issuer-url", idp.issuer, `--client-id=${idp.clientId}`,
      "--scopes", "openid, profile, email", "--allow-new-users", "false", "--client-secret-stdin"],
    idp.clientSecret + "\n",
  );
  server.cli(["oidc", "enable"]);
}

/** Fills each field, found by its label, with its value (in the order given). */
export async function fillByLabel(page: Page, fields: Record<string, string>) {
  for (const [label, value] of Object.entries(fields)) {
    // The exact label when there is one ("Logo" is also part of "Post-logout ...").
    const exact = page.getByLabel(label, { exact: true });
    await ((await exact.count()) > 0 ? exact : page.getByLabel(label)).fill(value);
  }
}

export async function shot(page: Page, testInfo: TestInfo, name: string) {
  await page.screenshot({ path: testInfo.outputPath(`${name}.png`), fullPage: true });
}

export async function login(page: Page, testInfo: TestInfo, identifier: string, password: string) {
  await goto(page, testInfo, "/login");
  await page.getByLabel("Username or email").fill(identifier);
  await page.getByLabel("Password").fill(password);
  // Exactly: where passkeys are on, "Sign in with a passkey" is a button too.
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
}

/** axe-core itself, injected into a page once per document (`expectAccessible`). */
const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/** The WCAG 2.1 A and AA rules; only violations are collected (passes would be thrown away). */
const allRules: RunOptions = {
  runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
  resultTypes: ["violations"],
};
/** The rules that read colours, for the dark scheme (it changes colours only). */
const colourRules: RunOptions = {
  runOnly: { type: "rule", values: ["color-contrast", "link-in-text-block"] },
  resultTypes: ["violations"],
};

/** No axe-core WCAG 2.1 A/AA violation on the page as it is now, in the light and the dark
 * colour scheme. axe-core is injected: the page's context needs bypassCSP (the pages send a
 * nonce Content-Security-Policy) and JavaScript (its timers stop without). The dark scheme
 * changes colours only (style/main.css sets colour variables under prefers-color-scheme), so
 * there the rules that read colours run again, not the rest. axe-core runs directly rather
 * than through @axe-core/playwright, whose every `analyze()` parses the whole engine (0.5 MB)
 * again: that was most of the half second each check took, two checks per state. */
export async function expectAccessible(page: Page, what: string) {
  if (!(await page.evaluate(() => "axe" in window))) await page.addScriptTag({ content: axeSource });
  for (const [colorScheme, options] of [
    ["light", allRules],
    ["dark", colourRules],
  ] as const) {
    await page.emulateMedia({ colorScheme });
    const results: AxeResults = await page.evaluate(
      (options) => (window as unknown as { axe: { run: (c: Document, o: RunOptions) => Promise<AxeResults> } }).axe.run(document, options),
      options,
    );
    const violations = results.violations.map((v) => ({
      rule: v.id,
      help: v.help,
      nodes: v.nodes.map((n) => `${n.target.join(" ")}: ${n.failureSummary ?? ""}`),
    }));
    expect(violations, `${what} (${colorScheme})`).toEqual([]);
  }
  await page.emulateMedia({ colorScheme: null });
}

/** RFC 4648 base32 (no padding) to bytes. */
function base32(text: string): Buffer {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const c of text.replace(/=+$/, "").toUpperCase()) {
    const v = alphabet.indexOf(c);
    if (v < 0) throw new Error(`not base32: ${c}`);
    bits += v.toString(2).padStart(5, "0");
  }
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

/** The RFC 6238 code (SHA-1, 6 digits, 30-second steps) for `secret` at `offset` steps from
 * now: HOTP (RFC 4226) of the step number. */
export function totp(secret: string, offset = 0): string {
  const step = Math.floor(Date.now() / 1000 / 30) + offset;
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac("sha1", base32(secret)).update(counter).digest();
  const at = mac[mac.length - 1] & 0x0f;
  const n = (mac.readUInt32BE(at) & 0x7fffffff) % 1_000_000;
  return n.toString().padStart(6, "0");
}

/** Waits out the last seconds of a step, so a code typed now is judged in its own step. */
export async function awayFromAStepEdge() {
  const into = Math.floor(Date.now() / 1000) % 30;
  if (into >= 25) await new Promise((r) => setTimeout(r, (31 - into) * 1000));
}
