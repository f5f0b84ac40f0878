import { ConsoleMessage, expect, test } from "./fixtures";
import { addUser, ids, ready } from "./helpers";

// The pages run under their real Content-Security-Policy (no bypass here, unlike the axe
// spec): every signed-in page becomes live (its editor's script ran, or its page script ran),
// only the editors load the WebAssembly bundle, and the browser reports no error on its
// console (a refused script, preload or style shows up there first). On an installation of its own.
test.use({ portcullis: {} });
test.skip(({ javaScriptEnabled }) => !javaScriptEnabled, "console errors come from scripts");

test.beforeAll(({ server }) => addUser(server, "csp", "csp password", true));

test("signed-in pages hydrate under the CSP without console errors", async ({ page }, testInfo) => {
  const errors: string[] = [];
  page.on("console", (m: ConsoleMessage) => {
    if (m.type() === "error") errors.push(`${page.url()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => errors.push(`${page.url()}: ${e.message}`));

  await page.goto("/login");
  await page.getByLabel("Username or email").fill("csp");
  await page.getByLabel("Password").fill("csp password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.locator(ids.whoami)).toContainText("csp");
  // WebAssembly only where a page shows an editor: issue 20.
  let wasm: string[] = [];
  page.on("request", (r) => {
    if (new URL(r.url()).pathname.endsWith(".wasm")) wasm.push(r.url());
  });
  const editors = new Set(["/settings/users/oidc/new"]);
  for (const path of ["/", "/profile/settings", "/settings/users", "/settings/users/oidc/new", "/settings/applications"]) {
    wasm = [];
    await page.goto(path);
    await ready(page, testInfo);
    await expect(page.locator("html[data-hydrated]"), path).toHaveCount(1);
    expect(wasm.length > 0, `${path} loads wasm: ${wasm}`).toBe(editors.has(path));
  }
  // The editor's parts that render views are modules fetched when first used (the split
  // loader, under the same policy): here the logo's preview.
  await page.goto("/settings/users/oidc/new");
  await ready(page, testInfo);
  wasm = [];
  await page.getByLabel("Logo", { exact: true }).fill("/favicon.svg");
  await expect(page.locator(`${ids.logoPreview} img`)).toHaveAttribute("src", "/favicon.svg");
  expect(wasm.length, `modules fetched when first used: ${wasm}`).toBeGreaterThan(0);
  expect(errors).toEqual([]);
});
