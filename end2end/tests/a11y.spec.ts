import { BrowserContext, expect, Locator, Page, test, TestInfo } from "./fixtures";
import { addUser, expectAccessible, fillByLabel, goto, IDP, ids, jsEnabled, pagesContext, ready } from "./helpers";

// Every page and dialog passes axe-core's WCAG 2.1 A and AA rules, in the light and the dark
// colour scheme, empty and with data, with and without error messages.
//
// This spec walks a whole installation of its own from its first-run setup on. Two colour
// schemes per state: allow more than the default 30 s a test.
test.use({ portcullis: {} });
test.describe.configure({ mode: "serial", timeout: 60_000 });

let context: BrowserContext;
let page: Page;

test.beforeAll(async ({ browser, server }, testInfo) => {
  context = await pagesContext(browser, server, testInfo);
  page = await context.newPage();
});

test.afterAll(async () => {
  await context?.close();
});

/** Submits the setup form for the administrator `a11y` with `password`. */
async function submitSetup(password: string) {
  await fillByLabel(page, { Username: "a11y", Email: "a11y@example.com", Password: password });
  await page.getByRole("button", { name: "Create administrator" }).click();
}

/** Opens `url`, waits until `shown` is visible (and has `text`, when given), and checks the
 * page with axe as `what`. */
async function checkPage(testInfo: TestInfo, url: string, what: string, shown: Locator, text?: string) {
  await goto(page, testInfo, url);
  await (text === undefined ? expect(shown).toBeVisible() : expect(shown).toContainText(text));
  await expectAccessible(page, what);
}

test("setup page, with a field error; then the start page", async ({}, testInfo) => {
  await checkPage(testInfo, "/setup", "setup", page.locator(ids.setupForm), "Create the administrator account");

  await submitSetup("short");
  await expect(page.locator("#field-password-error")).toContainText("at least 8 characters");
  await ready(page, testInfo);
  await expectAccessible(page, "setup with errors");

  await submitSetup("a11y password");
  await expect(page.locator(ids.whoami)).toContainText("a11y");
  await ready(page, testInfo);
  await expectAccessible(page, "start page");
});

test("profile settings", async ({}, testInfo) => {
  await checkPage(testInfo, "/profile/settings", "profile settings", page.locator(ids.linkedAccountsTab));
});

test("profile sessions", async ({}, testInfo) => {
  await checkPage(testInfo, "/profile/settings/sessions", "profile sessions", page.locator(ids.sessions), "This session");
});

test("users settings, with an error; then OpenID Connect settings, empty", async ({}, testInfo) => {
  await checkPage(testInfo, "/settings/users", "users settings", page.locator(ids.userList), "a11y");

  // Turning off the last login method is refused with a message.
  await page.locator(ids.localLoginSwitch).click();
  await expect(page.locator(ids.loginMethodsError)).toContainText("At least one login method must stay enabled");
  await ready(page, testInfo);
  await expectAccessible(page, "users settings with an error");

  await page.locator(ids.oidcSwitch).click();
  await expect(page).toHaveURL(/\/settings\/users\/oidc$/);
  await ready(page, testInfo);
  await expect(page.locator(ids.providerList)).toContainText("No providers yet");
  await expectAccessible(page, "OpenID Connect settings, no providers");
});

test("new provider editor, with errors; then the provider list", async ({}, testInfo) => {
  await checkPage(testInfo, "/settings/users/oidc/new", "new provider editor", page.locator(ids.providerEditor));

  // The extra authorization parameters: a labelled textarea, one name=value per line.
  const authParams = page.getByLabel("Extra Authorization Parameters");
  await expect(authParams).toHaveJSProperty("tagName", "TEXTAREA");

  // Errors beside the fields (from the server, or live as the admin types).
  await fillByLabel(page, {
    "Provider Name": "A11y IdP",
    "Provider Slug": "a11y-idp",
    "Issuer URL": "http://idp.example.com",
    "Scopes": "profile",
    "Client ID": "portcullis-basic",
    "Client Secret": "basic-secret",
    "Extra Authorization Parameters": "prompt=select_account\nState=mine",
  });
  await page.locator(ids.saveProvider).click();
  await expect(page.locator(ids.editorError)).toContainText("Please correct the highlighted fields");
  await expect(page.locator("#field-issuer_url-error")).toContainText("Use https://");
  await expect(page.locator("#field-auth_params-error")).toContainText("Line 2: State cannot be set here");
  await ready(page, testInfo);
  await expectAccessible(page, "new provider editor with errors");

  await fillByLabel(page, {
    "Provider Name": "A11y IdP",
    "Provider Slug": "a11y-idp",
    "Issuer URL": IDP,
    "Scopes": "openid, profile, email",
    "Client ID": "portcullis-basic",
    "Client Secret": "basic-secret",
    "Extra Authorization Parameters": "prompt=select_account",
  });
  if (jsEnabled(testInfo)) {
    await page.locator(ids.testConnection).click();
    await expect(page.locator(ids.connectionReport)).toContainText("Connected");
    await expectAccessible(page, "new provider editor with a connection report");
  }
  await page.locator(ids.saveProvider).click();
  await expect(page).toHaveURL(/\/settings\/users\/oidc$/);
  await ready(page, testInfo);
  await expect(page.locator(`${ids.providerList} [data-slug="a11y-idp"]`)).toContainText("A11y IdP");
  await expectAccessible(page, "OpenID Connect settings with a provider");

  await page.locator('[data-slug="a11y-idp"]').getByText("Delete", { exact: true }).click();
  await expect(page.locator('[data-slug="a11y-idp"] .confirm-box')).toBeVisible();
  await expectAccessible(page, "OpenID Connect settings, confirming a deletion");
});

test("edit provider editor, and a save that needs confirmation", async ({}, testInfo) => {
  await checkPage(testInfo, "/settings/users/oidc/edit/a11y-idp", "edit provider editor", page.locator(ids.providerEditor), "A secret is set");

  await page.getByLabel("Issuer URL").fill("http://127.0.0.1:9/offline");
  // A new issuer needs its client secret typed again (the stored one never follows it).
  await page.getByLabel("Client Secret").fill("basic-secret");
  await page.locator(ids.saveProvider).click();
  await expect(page.locator(ids.saveWarning)).toContainText("Could not reach the provider");
  await ready(page, testInfo);
  await expectAccessible(page, "edit provider editor asking for confirmation");
});

test("icon picker dialog", async ({}, testInfo) => {
  test.skip(!jsEnabled(testInfo), "the dialog needs JavaScript");
  await goto(page, testInfo, "/settings/users/oidc/edit/a11y-idp");
  await page.locator(ids.logoSearch).click();
  const dialog = page.getByRole("dialog", { name: "Choose a logo" });
  await expect(dialog).toBeVisible();
  await expect(page.locator(`${ids.iconResults} [role="option"]`).first()).toBeVisible();
  await expectAccessible(page, "icon picker");
});

test("applications settings, empty; the editor with errors; the list and the start page with an app", async ({}, testInfo) => {
  await checkPage(testInfo, "/settings/applications", "applications settings, none", page.locator(ids.appList), "No applications yet");

  await goto(page, testInfo, "/settings/applications/new");
  await expect(page.locator(ids.appEditor)).toBeVisible();
  // The icon search button's accessible name is its visible text (WCAG 2.5.3).
  await expect(page.getByRole("button", { name: "Search icons", exact: true })).toHaveCount(1);
  await expectAccessible(page, "new application editor");

  await fillByLabel(page, { Name: "A11y App", URLs: "app.example", Icon: "javascript:alert(1)" });
  // Leave the field first: its error appears below it when it is left, moving what is below.
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await page.getByLabel("Listed users and groups").check();
  await page.locator(ids.saveApp).click();
  await expect(page.locator(ids.appEditorError)).toContainText("Please correct the highlighted fields");
  await expect(page.locator("#field-urls-error")).toContainText("https://");
  await ready(page, testInfo);
  await expectAccessible(page, "new application editor with errors");

  await fillByLabel(page, { Name: "A11y App", URLs: "https://app.example", Icon: "" });
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await page.getByLabel("Every signed-in user").check();
  await page.locator(ids.saveApp).click();
  await expect(page).toHaveURL(/\/settings\/applications$/);
  await ready(page, testInfo);
  await expect(page.locator(ids.appList)).toContainText("A11y App");
  await expectAccessible(page, "applications settings with an app");
  await page.locator('[data-app="A11y App"]').getByText("Delete", { exact: true }).click();
  await expect(page.locator('[data-app="A11y App"] .confirm-box')).toBeVisible();
  await expectAccessible(page, "applications settings, confirming a deletion");

  await checkPage(testInfo, "/", "start page with an application", page.locator(ids.appTiles), "A11y App");
});

test("application editor icon picker dialog", async ({}, testInfo) => {
  test.skip(!jsEnabled(testInfo), "the dialog needs JavaScript");
  await goto(page, testInfo, "/settings/applications/new");
  await page.locator(ids.logoSearch).click();
  await expect(page.getByRole("dialog", { name: "Choose a logo" })).toBeVisible();
  await expect(page.locator(`${ids.iconResults} [role="option"]`).first()).toBeVisible();
  await expectAccessible(page, "application icon picker");
});

test("linked accounts", async ({}, testInfo) => {
  await checkPage(testInfo, "/profile/settings/linked-accounts", "linked accounts", page.getByRole("button", { name: "Link Account: A11y IdP" }));
});

test("not found page", async ({}, testInfo) => {
  const res = await page.goto("/no-such-page");
  expect(res?.status()).toBe(404);
  await ready(page, testInfo);
  await expectAccessible(page, "not found");
});

test("audit log, and a filter's error", async ({}, testInfo) => {
  await checkPage(testInfo, "/settings/audit", "audit log", page.locator(ids.auditEvents), "a11y");
  await checkPage(testInfo, "/settings/audit?until=someday", "audit log with an error", page.locator("#field-until-error"), "Enter a date");
});

test("login page, with a provider and with an error", async ({}, testInfo) => {
  await goto(page, testInfo, "/");
  await page.locator(ids.logout).click();
  await expect(page).toHaveURL(/\/login$/);
  await ready(page, testInfo);
  await expect(page.locator(ids.loginProviders)).toContainText("Sign in with A11y IdP");
  await expectAccessible(page, "login");

  await page.getByLabel("Username or email").fill("a11y");
  await page.getByLabel("Password").fill("not the password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.locator(ids.loginError)).toHaveText("Wrong username, email or password.");
  await ready(page, testInfo);
  await expectAccessible(page, "login with an error");
});

test("the administrators-only page, as a user", async ({ server }, testInfo) => {
  addUser(server, "a11y-user", "a11y-user password");
  await goto(page, testInfo, "/login");
  await page.getByLabel("Username or email").fill("a11y-user");
  await page.getByLabel("Password").fill("a11y-user password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.locator(ids.whoami)).toContainText("a11y-user");
  const res = await page.goto("/settings/users");
  expect(res?.status()).toBe(403);
  await ready(page, testInfo);
  await expect(page.locator(ids.forbidden)).toContainText("Administrators only");
  await expectAccessible(page, "administrators only");
});
