import { createHash, randomBytes } from "node:crypto";
import { Browser, expect, Page, Server, test, TestInfo } from "./fixtures";
import { addUser, expectAccessible, goto, ids, jsEnabled, login, pagesContext, ready } from "./helpers";

// Profile → Sessions ends another browser's session: two browser contexts signed in as the
// same user; the first signs the second out, which finds itself signed out on its next
// request. With JavaScript on and off (the buttons are plain form posts). On an installation
// of its own; each test signs in afresh. A session that signed in to an application through
// Portcullis (OpenID Connect) names it.
test.use({ portcullis: {} });

const USER = "sessy";
const PASSWORD = "sessy password";
const FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";

test.beforeAll(({ server }) => addUser(server, USER, PASSWORD));

/** Signs `page` in as USER. */
async function signIn(page: Page, testInfo: TestInfo) {
  await login(page, testInfo, USER, PASSWORD);
  await expect(page.locator(ids.whoami)).toContainText(USER);
}

/** Signs `page` in as USER, and a second browser (its own cookies) that says it is Firefox;
 * returns the second browser's page. */
async function signInTwice(page: Page, browser: Browser, server: Server, testInfo: TestInfo): Promise<Page> {
  await signIn(page, testInfo);
  const context = await browser.newContext({
    baseURL: server.url,
    javaScriptEnabled: jsEnabled(testInfo),
    userAgent: FIREFOX,
  });
  const other = await context.newPage();
  await signIn(other, testInfo);
  return other;
}

test("the sessions page ends another browser's session", async ({ page, browser, server }, testInfo) => {
  const other = await signInTwice(page, browser, server, testInfo);
  await goto(page, testInfo, "/profile/settings");
  await page.locator(ids.sessionsTab).click();
  await expect(page).toHaveURL(/\/profile\/settings\/sessions$/);
  await ready(page, testInfo);
  const list = page.locator(ids.sessions);
  const mine = list.locator('li[data-current="true"]');
  await expect(mine).toHaveCount(1);
  await expect(mine).toContainText("This session");
  const firefox = list.locator("li.session", { hasText: "Firefox 133 on Linux" });
  await expect(firefox.first()).toContainText("Password");

  await firefox.first().getByRole("button", { name: /^Sign out Firefox 133 on Linux/ }).click();
  await expect(page.locator(ids.sessionsNotice)).toContainText("That session is signed out.");
  await ready(page, testInfo);

  // The other browser's next request finds it signed out; this one is still signed in.
  await other.goto("/profile/settings");
  await expect(other).toHaveURL(/\/login/);
  await goto(page, testInfo, "/profile/settings/sessions");
  await expect(page.locator(ids.sessions)).not.toContainText("Firefox 133 on Linux");
  await other.context().close();
});

test("sign out everywhere else keeps this browser", async ({ page, browser, server }, testInfo) => {
  const other = await signInTwice(page, browser, server, testInfo);
  await goto(page, testInfo, "/profile/settings/sessions");
  await page.locator(ids.endOtherSessions).click();
  await expect(page.locator(ids.sessionsNotice)).toContainText(/Signed out \d+ other sessions?\./);
  await ready(page, testInfo);
  await expect(page.locator(`${ids.sessions} li.session`)).toHaveCount(1);
  await expect(page.locator(ids.endOtherSessions)).toHaveCount(0);

  await other.goto("/profile/settings");
  await expect(other).toHaveURL(/\/login/);
  await goto(page, testInfo, "/");
  await expect(page.locator(ids.whoami)).toContainText(USER);
  await other.context().close();
});

test("the sessions page names the applications a session signed in to", async ({ browser, server }, testInfo) => {
  // A public client made with the real CLI; its redirect URI is answered here, not served.
  const suffix = randomBytes(4).toString("hex");
  const name = `Wiki ${suffix}`;
  const clientId = `wiki-${suffix}`;
  const redirectUri = "http://127.0.0.1:9/callback";
  server.cli(["app", "add", "--name", name, "--url", `https://wiki-${suffix}.portcullis.test`,
    `--client-id=${clientId}`, "--redirect-uri", redirectUri, "--client-auth", "none"]);
  // A context axe can check (axe-core needs JavaScript; without it the app's script is blocked).
  const context = await pagesContext(browser, server, testInfo);
  const page = await context.newPage();
  await signIn(page, testInfo);

  // The authorization code flow as the application would run it (PKCE S256). The browser's
  // own request, with its cookies, but not a navigation: a navigation to the redirect URI
  // could end in an error page that lands while the next page loads (seen once in CI).
  const verifier = randomBytes(32).toString("base64url");
  const challenge = createHash("sha256").update(verifier).digest("base64url");
  const authorize = new URL("/oauth2/authorize", server.url);
  authorize.search = new URLSearchParams({
    client_id: clientId,
    redirect_uri: redirectUri,
    response_type: "code",
    scope: "openid profile",
    state: "st",
    nonce: "n",
    code_challenge: challenge,
    code_challenge_method: "S256",
  }).toString();
  const answer = await page.request.get(authorize.href, { maxRedirects: 0 });
  const location = answer.headers()["location"] ?? "";
  expect(location.startsWith(redirectUri), `${answer.status()} ${location}`).toBe(true);
  const code = new URL(location).searchParams.get("code");
  expect(code).toBeTruthy();
  const token = await page.request.post(`${server.url}/oauth2/token`, {
    form: { grant_type: "authorization_code", code: code!, redirect_uri: redirectUri, client_id: clientId, code_verifier: verifier },
  });
  expect(token.status()).toBe(200);

  await goto(page, testInfo, "/profile/settings/sessions");
  const mine = page.locator(ids.sessions).locator('li[data-current="true"]');
  await expect(mine).toContainText("Signed in to");
  await expect(mine.locator(".session-apps")).toHaveText(name);
  await expectAccessible(page, "the sessions page naming an application");
  await context.close();
});
