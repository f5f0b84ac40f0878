import { ConsoleMessage, expect, test } from "./fixtures";
import { addUser, ids, ready } from "./helpers";

// The pages run under their real Content-Security-Policy (no bypass here, unlike the axe
// spec): every signed-in page becomes live (its islands hydrated, or its page script ran),
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
  // WebAssembly only where a page shows an island (the editors): issue 20.
  let wasm: string[] = [];
  page.on("request", (r) => {
    if (new URL(r.url()).pathname.endsWith(".wasm")) wasm.push(r.url());
  });
  const islands = new Set(["/settings/users/oidc/new"]);
  for (const path of ["/", "/profile/settings", "/settings/users", "/settings/users/oidc/new", "/settings/applications"]) {
    wasm = [];
    await page.goto(path);
    await ready(page, testInfo);
    await expect(page.locator("html[data-hydrated]"), path).toHaveCount(1);
    expect(wasm.length > 0, `${path} loads wasm: ${wasm}`).toBe(islands.has(path));
  }
  expect(errors).toEqual([]);
});
