import { expect, test } from "./fixtures";
import { expectAccessible, ids, ready } from "./helpers";

// First-run setup with a passkey: a fresh installation (no user yet) at a host name
// (http://localhost:<port>: browsers take no IP address as a passkey's site). The
// administrator is made without a password, adds the passkey through the enrolment link the
// setup goes on to, is signed in, and signs in with it again. Chromium's virtual
// authenticator stands in for the device. Without JavaScript the button stays hidden and the
// password form is the way.
test.use({ portcullis: { host: "localhost" } });
test.describe.configure({ mode: "serial", timeout: 120_000 });

test("set up the administrator with a passkey", async ({ browser, server }, testInfo) => {
  test.skip(!testInfo.project.use.javaScriptEnabled, "WebAuthn needs JavaScript");
  const context = await browser.newContext({ baseURL: server.url, bypassCSP: true });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: { protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true, isUserVerified: true },
  });

  await page.goto("/setup");
  await ready(page, testInfo);
  await expectAccessible(page, "setup with passkeys");
  await page.getByLabel("Username").fill("root");
  await page.getByLabel("Email").fill("root@example.com");
  await page.getByRole("button", { name: "Create administrator with a passkey" }).click();
  await expect(page).toHaveURL(/\/passkey-enrolment\?token=/);
  await expect(page.getByText("Add a passkey to the account root")).toBeVisible();
  await page.getByLabel("Name of the new passkey").fill("Laptop");
  await page.getByRole("button", { name: "Add a passkey" }).click();
  await expect(page.locator(ids.whoami)).toContainText("root");

  // Setup is done; the passkey signs the administrator in (autofill or the button).
  await page.goto("/setup");
  await expect(page.getByText("Setup is complete")).toBeVisible();
  await page.locator(ids.logout).click();
  await expect(page.locator(ids.whoami)).toContainText("root");
  await page.goto("/settings/users");
  await expect(page.locator('td.second-factor[data-user="root"]')).toHaveText("Passkeys");

  // A one-time enrolment link for an account (here root's own: a second device), shown once.
  await page.getByRole("button", { name: "Make link for root" }).click();
  await expect(page.locator(ids.passkeyLink)).toContainText("Passkey enrolment link for root");
  await expect(page.locator("#passkey-link-value")).toHaveValue(/\/passkey-enrolment\?token=/);
  await ready(page, testInfo);
  await expectAccessible(page, "users page with an enrolment link");
  await context.close();
});

test("without JavaScript, setup offers the password form alone", async ({ browser, server }, testInfo) => {
  test.skip(!!testInfo.project.use.javaScriptEnabled, "the page as it is without scripts");
  const context = await browser.newContext({ baseURL: server.url, javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto("/setup");
  await expect(page.getByLabel("Password")).toBeVisible();
  await expect(page.getByRole("button", { name: "Create administrator with a passkey" })).toBeHidden();
  await context.close();
});
