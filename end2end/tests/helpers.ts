import { expect, Page, TestInfo } from "@playwright/test";
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { ICONS, IDP } from "../ports";

const __dirname = path.dirname(fileURLToPath(import.meta.url));

// The element ids, read from app/src/ids.rs.
export { ids } from "./ids";

// The OpenID Provider and the icon host of this run (free ports, chosen in ../ports.ts).
export { ICONS, IDP };

export function jsEnabled(testInfo: TestInfo) {
  return testInfo.project.use.javaScriptEnabled !== false;
}

const bin = process.env.PORTCULLIS_BIN ?? path.resolve(__dirname, "../../target/release/portcullis");

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

/** Runs the real CLI against this project's server's database; returns what it prints. */
export function cli(testInfo: TestInfo, args: string[], input = ""): string {
  return execFileSync(bin, args, {
    input,
    encoding: "utf8",
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, PORTCULLIS_DATA_DIR: testInfo.project.metadata.dataDir, PORTCULLIS_LOG: "warn" },
  });
}

/** The server's sign-in page reads changes made by another process (the CLI) within a
 * second (src/ssr/login_page.rs, TTL): wait that out after one. */
function settle() {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1100);
}

/** Adds a user with the real CLI, against this project's server's database. */
export function addUser(testInfo: TestInfo, username: string, password: string, admin = false) {
  const args = ["user", "add", "--username", username, "--email", `${username}@example.com`, "--password-stdin"];
  if (admin) args.push("--admin");
  cli(testInfo, args, password + "\n");
  settle();
}

/** Adds the user unless this project's installation has it already: a spec's own setup, so
 * that it runs alone as well as after the others (and again after a failed test). */
export function ensureUser(testInfo: TestInfo, username: string, password: string, admin = false) {
  const users: { username: string }[] = JSON.parse(cli(testInfo, ["user", "list", "--json"]));
  if (!users.some((u) => u.username === username)) addUser(testInfo, username, password, admin);
}

/** The provider oidc-settings.spec.ts creates through the editor ("Test IdP", slug
 * "test-idp", client portcullis-basic at the test OpenID Provider, Allow New Users off),
 * created with the CLI unless it exists; OpenID Connect sign-in turned on. */
export function ensureTestIdp(testInfo: TestInfo) {
  const providers: { slug: string }[] = JSON.parse(cli(testInfo, ["provider", "list", "--json"]));
  if (!providers.some((p) => p.slug === "test-idp")) {
    cli(
      testInfo,
      ["provider", "add", "--slug", "test-idp", "--name", "Test IdP", "--issuer-url", IDP, "--client-id", "portcullis-basic",
        "--scopes", "openid, profile, email", "--allow-new-users", "false", "--client-secret-stdin"],
      "basic-secret\n",
    );
  }
  cli(testInfo, ["oidc", "enable"]);
  settle();
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
  await page.getByRole("button", { name: "Sign in" }).click();
}
