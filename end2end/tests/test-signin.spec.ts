import AxeBuilder from "@axe-core/playwright";
import { expect, test } from "@playwright/test";
import { ensureUser, fillByLabel, goto, IDP, ids, jsEnabled, login, ready } from "./helpers";

// Test sign-in (issue 13): from a provider editor that was never saved, the administrator
// runs the real sign-in at the test provider (npm oidc-provider, which accepts the redirect
// URI /login/test-idp) and reads the report; they stay signed in as themselves.
const WCAG21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

test("a test sign-in from an unsaved editor shows the claims and what a sign-in would do", async ({ browser }, testInfo) => {
  ensureUser(testInfo, "tester", "tester password", true);
  // axe-core is injected (the pages send a nonce CSP), and needs JavaScript: without
  // JavaScript means here that the app's own script never loads, so the editor's button is
  // a plain form submit and the report a plain page.
  const context = await browser.newContext({
    baseURL: testInfo.project.use.baseURL,
    bypassCSP: true,
    javaScriptEnabled: true,
  });
  if (!jsEnabled(testInfo)) await context.route(/\/pkg\//, (route) => route.abort());
  const page = await context.newPage();
  await login(page, testInfo, "tester", "tester password");
  await expect(page.locator(ids.whoami)).toBeVisible();

  await goto(page, testInfo, "/settings/users/oidc/new");
  await fillByLabel(page, {
    "Provider Name": "Test IdP",
    "Provider Slug": "test-idp",
    "Issuer URL": IDP,
    "Client ID": "portcullis-basic",
    "Client Secret": "basic-secret",
    "Scopes": "openid, profile, email, portcullis",
    "Required Claims": "portcullis_user, groups=media-users",
  });
  await page.getByLabel("Allow New Users").check();
  await page.locator(ids.testSignIn).click();

  // The real provider's login, in the same browser.
  await expect(page).toHaveURL((url) => url.href.startsWith(`${IDP}/interaction/`));
  await page.locator('input[name="login"]').fill("alice");
  await page.locator('input[name="password"]').fill("any password");
  await page.locator('button[type="submit"]').click();

  await expect(page).toHaveURL(/\/settings\/users\/oidc\/test-report\?id=/);
  await ready(page, testInfo);
  await expect(page.locator(ids.testReportSummary)).toContainText("every step passed");
  await expect(page.locator(ids.testReportSteps)).toContainText("client_secret_basic");
  await expect(page.locator(ids.testReportHeader)).toContainText("RS256");
  await expect(page.locator(ids.testReportClaims)).toContainText("alice@idp.example");
  await expect(page.locator(ids.testReportClaims)).toContainText("media-users");
  await expect(page.locator(ids.testReportRules)).toContainText("groups=media-users");
  await expect(page.locator(ids.testReportRules)).not.toContainText("fails");
  // On the installation the specs share, signin.spec.ts's "linker" account may hold alice's
  // verified email by now (a provider sign-in brings the email along): a first sign-in is
  // then refused for that reason, which the report must say; otherwise it creates her.
  await expect(page.locator(ids.testReportOutcome)).toContainText(
    /Create a new account|An account with the email address from Test IdP already exists/,
  );
  await expect(page.locator(ids.testReportNotes)).toContainText("not saved yet");

  for (const colorScheme of ["light", "dark"] as const) {
    await page.emulateMedia({ colorScheme });
    const results = await new AxeBuilder({ page }).withTags(WCAG21_AA).analyze();
    const violations = results.violations.map((v) => ({
      rule: v.id,
      nodes: v.nodes.map((n) => `${n.target.join(" ")}: ${n.failureSummary ?? ""}`),
    }));
    expect(violations, `test report (${colorScheme})`).toEqual([]);
  }
  await page.emulateMedia({ colorScheme: null });
  if (jsEnabled(testInfo)) {
    // To the test output, never over the tracked docs/test-sign-in.png.
    await page.screenshot({ path: testInfo.outputPath("test-sign-in.png"), fullPage: true });
  }

  // Shown once; and the administrator is still themself.
  await page.reload();
  await expect(page.locator("main")).toContainText("shown already or has expired");
  await goto(page, testInfo, "/");
  await expect(page.locator(ids.whoami)).toHaveAttribute("data-username", "tester");
  await context.close();
});
