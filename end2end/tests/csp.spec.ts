import { ConsoleMessage, expect, test } from "@playwright/test";
import { ids, jsEnabled, ready } from "./helpers";
import { Server, startServer } from "./server";

// The pages run under their real Content-Security-Policy (no bypass here, unlike the axe
// spec): every signed-in page hydrates, and the browser reports no error on its console (a
// refused script, preload or style shows up there first).

let server: Server | undefined;

test.beforeAll(async ({}, testInfo) => {
  if (!jsEnabled(testInfo)) return;
  server = await startServer();
  server.cli(
    ["user", "add", "--username", "csp", "--email", "csp@example.com", "--admin", "--password-stdin"],
    "csp password\n",
  );
});

test.afterAll(() => server?.stop());

test("signed-in pages hydrate under the CSP without console errors", async ({ browser }, testInfo) => {
  test.skip(!jsEnabled(testInfo), "console errors come from scripts");
  const context = await browser.newContext({ baseURL: server!.url });
  const page = await context.newPage();
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
  for (const path of ["/", "/profile/settings", "/settings/users", "/settings/users/oidc/new", "/settings/applications"]) {
    await page.goto(path);
    await ready(page, testInfo);
    await expect(page.locator("html[data-hydrated]"), path).toHaveCount(1);
  }
  expect(errors).toEqual([]);
  await context.close();
});
