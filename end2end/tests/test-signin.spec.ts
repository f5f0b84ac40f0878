import { Browser, expect, Page, Server, test, TestIdp, TestInfo } from "./fixtures";
import { addUser, expectAccessible, fillByLabel, goto, IDP, ids, jsEnabled, login, pagesContext, ready } from "./helpers";

// Test sign-in (issue 13): from a provider editor that was never saved, the administrator
// runs the real sign-in at the test provider (npm oidc-provider, with a client of this spec's
// own for the redirect URI /login/test-idp of its server) and reads the report; they stay
// signed in as themselves. On an installation of its own; each test names the local account
// its outcome depends on (or that there is none).
test.use({ portcullis: {} });

test.beforeAll(({ server }) => addUser(server, "tester", "tester password", true));

type Fixtures = { browser: Browser; server: Server; testIdp: TestIdp };

/** Signs in as the administrator "tester" in a context of its own and runs a test sign-in of
 * an unsaved "Test IdP" (Allow New Users on, `requiredClaims`) as the provider's `user`;
 * returns the report's page. axe-core is injected (the pages send a nonce CSP), and needs
 * JavaScript: without JavaScript means here that the app's own script never loads, so the
 * editor's button is a plain form submit and the report a plain page. */
async function testSignIn(
  { browser, server, testIdp }: Fixtures,
  testInfo: TestInfo,
  user: string,
  requiredClaims: string,
): Promise<Page> {
  const context = await pagesContext(browser, server, testInfo);
  const page = await context.newPage();
  await login(page, testInfo, "tester", "tester password");
  await expect(page.locator(ids.whoami)).toBeVisible();

  await goto(page, testInfo, "/settings/users/oidc/new");
  await fillByLabel(page, {
    "Provider Name": "Test IdP",
    "Provider Slug": "test-idp",
    "Issuer URL": testIdp.issuer,
    "Client ID": testIdp.clientId,
    "Client Secret": testIdp.clientSecret,
    "Scopes": "openid, profile, email, portcullis",
    "Required Claims": requiredClaims,
  });
  await page.getByLabel("Allow New Users").check();
  await page.locator(ids.testSignIn).click();

  // The real provider's login, in the same browser.
  await expect(page).toHaveURL((url) => url.href.startsWith(`${IDP}/interaction/`));
  await page.locator('input[name="login"]').fill(user);
  await page.locator('input[name="password"]').fill("any password");
  await page.locator('button[type="submit"]').click();

  await expect(page).toHaveURL(/\/settings\/users\/oidc\/test-report\?id=/);
  await ready(page, testInfo);
  return page;
}

test("a test sign-in from an unsaved editor shows the claims and what a sign-in would do", async ({ browser, server, testIdp }, testInfo) => {
  const page = await testSignIn({ browser, server, testIdp }, testInfo, "alice", "portcullis_user, groups=media-users");
  await expect(page.locator(ids.testReportSummary)).toContainText("every step passed");
  await expect(page.locator(ids.testReportSteps)).toContainText("client_secret_basic");
  await expect(page.locator(ids.testReportHeader)).toContainText("RS256");
  await expect(page.locator(ids.testReportClaims)).toContainText("alice@idp.example");
  await expect(page.locator(ids.testReportClaims)).toContainText("media-users");
  await expect(page.locator(ids.testReportRules)).toContainText("groups=media-users");
  await expect(page.locator(ids.testReportRules)).not.toContainText("fails");
  // No account here has alice's email: a first sign-in creates her account.
  await expect(page.locator(ids.testReportOutcome)).toContainText("Create a new account");
  await expect(page.locator(ids.testReportNotes)).toContainText("not saved yet");

  await expectAccessible(page, "test report");
  if (jsEnabled(testInfo)) {
    // To the test output, never over the tracked docs/test-sign-in.png.
    await page.screenshot({ path: testInfo.outputPath("test-sign-in.png"), fullPage: true });
  }

  // Shown once; and the administrator is still themself.
  await page.reload();
  await expect(page.locator("main")).toContainText("shown already or has expired");
  await goto(page, testInfo, "/");
  await expect(page.locator(ids.whoami)).toHaveAttribute("data-username", "tester");
  await page.context().close();
});

test("a test sign-in says when a local account has the provider's email already", async ({ browser, server, testIdp }, testInfo) => {
  // The provider's erin has the verified email taken@example.com; so has this local account.
  addUser(server, "taken", "taken password");
  const page = await testSignIn({ browser, server, testIdp }, testInfo, "erin", "portcullis_user");
  await expect(page.locator(ids.testReportSummary)).toContainText("every step passed");
  await expect(page.locator(ids.testReportClaims)).toContainText("taken@example.com");
  await expect(page.locator(ids.testReportOutcome)).toContainText(
    "An account with the email address from Test IdP already exists",
  );
  await expectAccessible(page, "test report, email taken");
  await page.context().close();
});
