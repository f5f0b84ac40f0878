import { BrowserContext, expect, Page, test, TestInfo } from "./fixtures";
import { addUser, confirmIn, expectAccessible, ids, login, pagesContext, ready } from "./helpers";

// Profile → Tokens: a personal access token made for an application that allows tokens,
// shown once, listed without the token, revoked. With JavaScript on and off (axe needs
// JavaScript, so "off" means the app's own scripts never load: every form posts as plain
// HTML), axe-checked at each step. The token at the check endpoints and through real Caddy
// and nginx: server/tests/forward_auth/tokens.rs and proxies.rs.
test.use({ portcullis: {} });
test.describe.configure({ mode: "serial", timeout: 120_000 });

let context: BrowserContext;
let page: Page;

const user = (testInfo: TestInfo) => `tess-${testInfo.project.name}`;

test.beforeAll(async ({ browser, server }, testInfo) => {
  addUser(server, user(testInfo), `${user(testInfo)} password`);
  // Created once per server: the specs' projects share it, so the second one finds it.
  try {
    server.cli(["app", "add", "--name", "Backup", "--url", "https://backup.portcullis.test", "--allow-tokens", "true"]);
    server.cli(["app", "add", "--name", "Wiki", "--url", "https://wiki.portcullis.test"]);
  } catch {
    // Already there.
  }
  context = await pagesContext(browser, server, testInfo);
  page = await context.newPage();
});

test.afterAll(async () => {
  await context?.close();
});

test("make a token, see it once, revoke it", async ({}, testInfo) => {
  await login(page, testInfo, user(testInfo), `${user(testInfo)} password`);
  await expect(page.locator(ids.whoami)).toContainText(user(testInfo));
  await page.goto("/profile/settings/tokens");
  await ready(page, testInfo);
  await expect(page.locator(ids.tokensTab)).toHaveAttribute("aria-current", "page");
  await expect(page.getByText("No tokens yet.")).toBeVisible();
  // Only applications that allow tokens are offered.
  await expect(page.getByRole("checkbox", { name: "Backup" })).toBeVisible();
  await expect(page.getByRole("checkbox", { name: "Wiki" })).toHaveCount(0);
  await expectAccessible(page, "tokens, none yet");

  // No application chosen: the field says what to fix, nothing is made. (An empty name is
  // refused by the browser first: the field is required.)
  await page.getByLabel("Name").fill("backup script");
  await page.getByRole("button", { name: "Make token" }).click();
  await expect(page.locator("#field-apps-error")).toContainText("Choose at least one application");
  await expect(page.getByText("No tokens yet.")).toBeVisible();
  await ready(page, testInfo);
  await expectAccessible(page, "tokens, errors");

  await page.getByLabel("Name").fill("backup script");
  await page.getByLabel("Expires").selectOption("30");
  await page.getByRole("checkbox", { name: "Backup" }).check();
  await page.getByRole("button", { name: "Make token" }).click();
  const shown = page.locator(ids.newToken);
  await expect(shown).toBeVisible();
  const token = await shown.inputValue();
  expect(token).toMatch(/^pc_pat_[A-Za-z0-9_-]{43}$/);
  const item = page.locator(`${ids.tokenList} li`);
  await expect(item).toHaveCount(1);
  await expect(item).toContainText("backup script");
  await expect(item).toContainText(`…${token.slice(-4)}`);
  await expect(item).toContainText("Backup");
  await ready(page, testInfo);
  await expectAccessible(page, "tokens, a new one");

  // Shown once: never again, and never in the list.
  await page.goto("/profile/settings/tokens");
  await ready(page, testInfo);
  await expect(page.locator(ids.newToken)).toHaveCount(0);
  expect(await page.content()).not.toContain(token);

  await confirmIn(item, "Revoke", "backup script");
  await expect(page.locator(ids.tokensNotice)).toContainText("The token is revoked.");
  await expect(page.getByText("No tokens yet.")).toBeVisible();
  await ready(page, testInfo);
  await expectAccessible(page, "tokens, revoked");
});

test("an administrator revokes a user's tokens from the users page", async ({ browser, server }, testInfo) => {
  const admin = `tadmin-${testInfo.project.name}`;
  addUser(server, admin, `${admin} password`, true);
  server.cli(["token", "create", "--user", user(testInfo), "--name", "laptop", "--app", "Backup"]);
  const adminContext = await pagesContext(browser, server, testInfo);
  const adminPage = await adminContext.newPage();
  await login(adminPage, testInfo, admin, `${admin} password`);
  await adminPage.goto("/settings/users");
  await ready(adminPage, testInfo);
  const cell = adminPage.locator(`td.user-tokens[data-user="${user(testInfo)}"]`);
  await expect(cell).toContainText("1 token");
  await expect(adminPage.locator(`td.user-tokens[data-user="${admin}"]`)).toContainText("None");
  await cell.locator("summary", { hasText: "Revoke all" }).click();
  await expect(cell.getByRole("alertdialog")).toContainText("Scripts that use them stop working at once.");
  await expectAccessible(adminPage, "users page, revoking tokens");
  await cell.getByRole("button", { name: `Revoke all of ${user(testInfo)}'s tokens` }).click();
  await expect(adminPage.locator(`td.user-tokens[data-user="${user(testInfo)}"]`)).toContainText("None");
  expect(server.cli(["token", "list", "--user", user(testInfo), "--json"]).trim()).toBe("[]");
  await adminContext.close();
});
