import { BrowserContext, CDPSession, expect, Page, test, TestInfo } from "./fixtures";
import { addUser, expectAccessible, ids, jsEnabled, login, ready } from "./helpers";

// The step-up with a passkey (issue 22 item 3), with Chromium's virtual authenticator: an
// administrator adds a passkey, then requires a second factor of administrators (Settings →
// Users). Signed in with a password alone, the settings then ask for the second factor;
// "Use a passkey" on /second-factor gives it and comes back to the page. Passkeys need
// JavaScript: without it the step-up page says so. The server's public URL is
// http://localhost:<port> (passkeys.spec.ts says why).
test.use({ portcullis: { host: "localhost" } });
test.describe.configure({ mode: "serial", timeout: 120_000 });

let context: BrowserContext;
let page: Page;
let cdp: CDPSession;

const user = (testInfo: TestInfo) => `ada-${testInfo.project.name}`;
const password = (testInfo: TestInfo) => `${user(testInfo)} password`;

test.beforeAll(async ({ browser, server }, testInfo) => {
  addUser(server, user(testInfo), password(testInfo), true);
  context = await browser.newContext({ baseURL: server.url, bypassCSP: true, javaScriptEnabled: true });
  page = await context.newPage();
  cdp = await context.newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: { protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true, isUserVerified: true },
  });
});

test.afterAll(async () => {
  await context?.close();
});

test("administrators need a second factor: the settings ask, a passkey gives it", async ({}, testInfo) => {
  // The passkey is added with JavaScript on in both projects (WebAuthn needs it); the
  // step-up page is then read as the project says.
  await login(page, testInfo, user(testInfo), password(testInfo));
  await expect(page.locator(ids.whoami)).toContainText(user(testInfo));
  await page.goto("/profile/settings/security");
  await ready(page, testInfo);
  await page.getByLabel("Name of the new passkey").fill("Laptop");
  await page.getByRole("button", { name: "Add a passkey" }).click();
  await expect(page.locator(ids.securityNotice)).toContainText("Passkey “Laptop” added");

  await page.goto("/settings/users");
  await ready(page, testInfo);
  await page.locator(ids.secondFactorPolicy).getByLabel("Administrators").check();
  await page.locator(ids.secondFactorPolicy).getByRole("button", { name: "Save" }).click();
  // This session signed in with the password alone: the settings now ask for more.
  await expect(page.locator(ids.stepUpNeeded)).toBeVisible();
  await expectAccessible(page, "settings, second factor required");
  await page.getByRole("link", { name: "Give your second factor" }).click();
  await expect(page).toHaveURL((u) => u.pathname === "/second-factor" && u.searchParams.get("next") === "/settings/users");
  await expect(page.locator(ids.stepUp)).toContainText(`Signed in as ${user(testInfo)}`);

  if (!jsEnabled(testInfo)) {
    const nojs = await context.browser()!.newContext({ baseURL: page.url().split("/second-factor")[0], javaScriptEnabled: false });
    await nojs.addCookies(await context.cookies());
    const plain = await nojs.newPage();
    await plain.goto(page.url());
    await expect(plain.locator(ids.passkeyNoScript)).toContainText("needs JavaScript");
    await nojs.close();
    return;
  }
  await ready(page, testInfo);
  await expectAccessible(page, "step-up with a passkey");
  await page.getByRole("button", { name: "Use a passkey" }).click();
  await expect(page).toHaveURL((u) => u.pathname === "/settings/users");
  await expect(page.locator(ids.secondFactorPolicy)).toBeVisible();
  await expect(page.locator(ids.secondFactorPolicy).getByLabel("Administrators")).toBeChecked();
});
