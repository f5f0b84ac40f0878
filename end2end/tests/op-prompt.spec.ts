import { BrowserContext, expect, Page, test } from "./fixtures";
import { addClientApp, addUser, expectAccessible, jsEnabled, ready } from "./helpers";

// Portcullis as an OpenID Provider: the two pages an authorization request may show a
// signed-in person (docs/openid-provider.md §3.4): the consent page of an application
// that asks before sharing, and the account choice of prompt=select_account. Both are
// server-rendered plain forms: they work without JavaScript and pass axe. And prompt=login:
// the login page shows its form to the signed-in person, prefilled with login_hint.
test.use({ portcullis: {} });
test.describe.configure({ mode: "serial" });

const CB = "https://wiki.example/cb";
let clientId = "";
let context: BrowserContext;
let page: Page;

test.beforeAll(async ({ browser, server }, testInfo) => {
  addUser(server, "olive", "olive password");
  clientId = addClientApp(server, "Wiki", ["--redirect-uri", CB, "--consent", "true"]);
  // axe-core is injected (bypassCSP) and needs JavaScript; without JavaScript means the
  // app's own script never loads (as in a11y.spec.ts).
  context = await browser.newContext({ baseURL: server.url, bypassCSP: true, javaScriptEnabled: true });
  if (!jsEnabled(testInfo)) await context.route(/\/pkg\//, (route) => route.abort());
  // The application itself: the redirect URI answers with a page.
  await context.route(`${CB}**`, (route) => route.fulfill({ contentType: "text/plain", body: "the application" }));
  page = await context.newPage();
  await page.goto("/login");
  await ready(page, testInfo);
  await page.getByLabel("Username or email").fill("olive");
  await page.getByLabel("Password").fill("olive password");
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page).toHaveURL(/\/$/);
});

test.afterAll(async () => {
  await context?.close();
});

function authorize(extra: Record<string, string> = {}) {
  const q = new URLSearchParams({
    client_id: clientId, redirect_uri: CB, response_type: "code", scope: "openid profile email", state: "st", ...extra,
  });
  return `/oauth2/authorize?${q}`;
}

/** The application got a code with its state. */
async function codeArrived(page: Page) {
  await expect(page).toHaveURL(/^https:\/\/wiki\.example\/cb\?code=[^&]+&state=st&iss=/);
}

test("the consent page says what is shared; Allow goes on with a code", async () => {
  await page.goto(authorize());
  await expect(page.getByRole("heading", { name: "Share your account with Wiki?" })).toBeVisible();
  await expect(page.getByRole("listitem")).toHaveText(["Your name and username", "Your email address"]);
  await expectAccessible(page, "consent page");
  await page.getByRole("button", { name: "Allow" }).click();
  await codeArrived(page);
});

test("the account choice: Continue as olive goes on (consent remembered)", async () => {
  await page.goto(authorize({ prompt: "select_account" }));
  await expect(page.getByRole("heading", { name: "Choose an account" })).toBeVisible();
  await expect(page.getByRole("button", { name: "Use another account" })).toBeVisible();
  await expectAccessible(page, "account choice");
  await page.getByRole("button", { name: "Continue as olive" }).click();
  await codeArrived(page);
});

test("prompt=login: the login page asks the signed-in person again, then goes on", async ({}, testInfo) => {
  await page.goto(authorize({ prompt: "login", login_hint: "olive" }));
  await expect(page).toHaveURL(/\/login\?next=%2Foauth2%2Fcontinue%2F/);
  await ready(page, testInfo);
  await expect(page.getByLabel("Username or email")).toHaveValue("olive");
  await page.getByLabel("Password").fill("olive password");
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await codeArrived(page);
});
