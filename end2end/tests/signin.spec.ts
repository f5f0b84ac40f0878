import { expect, Page, test, TestInfo } from "./fixtures";
import { addTestIdp, addUser, goto, IDP, ids, login, ready, shot } from "./helpers";

// On an installation of its own: provider "test-idp" (Test IdP), Allow New Users off, with a
// client at the test provider (npm oidc-provider; any password works) for this server's
// redirect URI alone; and a user with a password.
test.use({ portcullis: {} });
test.describe.configure({ mode: "serial" });

test.beforeAll(({ server, testIdp }) => {
  addTestIdp(server, testIdp);
  addUser(server, "linker", "linker password");
});

async function atProvider(page: Page, user: string) {
  await expect(page).toHaveURL((url) => url.href.startsWith(`${IDP}/interaction/`));
  await page.locator('input[name="login"]').fill(user);
  await page.locator('input[name="password"]').fill("any password");
  await page.locator('button[type="submit"]').click();
}

async function signInWithButton(page: Page, testInfo: TestInfo, user: string | null) {
  await goto(page, testInfo, "/login");
  await page.getByRole("link", { name: "Sign in with Test IdP" }).click();
  if (user) await atProvider(page, user);
}

test("the login page offers the provider; an unlinked identity is refused", async ({ page }, testInfo) => {
  await goto(page, testInfo, "/login");
  await expect(page.locator(ids.loginProviders)).toContainText("Sign in with Test IdP");
  await shot(page, testInfo, "login-with-provider");
  await page.getByRole("link", { name: "Sign in with Test IdP" }).click();
  await atProvider(page, "alice");
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.locator(ids.loginError)).toContainText("No account is linked to this Test IdP identity");
  await ready(page, testInfo);
  await shot(page, testInfo, "login-not-linked");
});

test("link from the profile, sign in with it, unlink", async ({ page }, testInfo) => {
  await login(page, testInfo, "linker", "linker password");
  await expect(page.locator(ids.whoami)).toBeVisible();
  await goto(page, testInfo, "/profile/settings/linked-accounts");
  await page.getByRole("button", { name: "Link Account: Test IdP" }).click();
  await atProvider(page, "alice");
  await expect(page).toHaveURL(/\/profile\/settings\/linked-accounts$/);
  await expect(page.locator(ids.linkedNotice)).toContainText("Your Test IdP account is now linked.");
  await ready(page, testInfo);
  await expect(page.locator(`${ids.linkedAccounts} [data-slug="test-idp"]`)).toContainText("alice");
  await shot(page, testInfo, "linked-accounts-linked");

  // Sign out, then sign in with the button (the provider remembers alice: one click).
  await page.locator(ids.logout).click();
  await expect(page).toHaveURL(/\/login$/);
  await signInWithButton(page, testInfo, null);
  await expect(page.locator(ids.whoami)).toContainText("linker");

  // Unlink (linker has a password, so it is allowed), with confirmation.
  await goto(page, testInfo, "/profile/settings/linked-accounts");
  await page.locator('[data-slug="test-idp"]').getByText("Unlink", { exact: true }).click();
  await page.getByRole("button", { name: "Unlink Test IdP" }).click();
  await expect(page.getByRole("button", { name: "Link Account: Test IdP" })).toBeVisible();
  await ready(page, testInfo);

  // Signed out again (this session began at the provider, which signs out too: its
  // confirmation, then back to the login page with a notice), the identity no longer signs in.
  await page.locator(ids.logout).click();
  await page.getByRole("button", { name: "Yes, sign me out" }).click();
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByText("You are signed out of Test IdP too.")).toBeVisible();
  // The provider's session ended too: it asks for a login again.
  await signInWithButton(page, testInfo, "alice");
  await expect(page.locator(ids.loginError)).toContainText("No account is linked");
});
