import { execFileSync } from "node:child_process";
import { BrowserContext, CDPSession, expect, Page, Server, test, TestInfo } from "./fixtures";
import { addUser, confirmIn, expectAccessible, goto, ids, jsEnabled, login, pagesContext, ready } from "./helpers";
import { bin } from "./server";

// Passkeys with Chromium's virtual authenticator (the DevTools Protocol's WebAuthn domain):
// add one on Profile → Security, sign out, sign in with it (the "Sign in with a passkey"
// button: a discoverable credential, no username typed), a cloned authenticator whose
// signature counter went backwards refused, remove it. axe-checked at each step.
//
// The server's public URL is http://localhost:<port>: browsers take no IP address as a
// relying party id, and localhost is a secure context over plain http.
//
// Passkeys need JavaScript. Without it (the "nojs" project) the sign-in page and the Security
// page say so and keep the other ways in; axe runs as in a11y.spec.ts (JavaScript on for
// axe, the app's own scripts never loaded), and the <noscript> words are read in a context
// with JavaScript really off.
test.use({ portcullis: { host: "localhost" } });
test.describe.configure({ mode: "serial", timeout: 120_000 });

let context: BrowserContext;
let page: Page;
let cdp: CDPSession;
let authenticator = "";

const user = (testInfo: TestInfo) => `penny-${testInfo.project.name}`;
const password = (testInfo: TestInfo) => `${user(testInfo)} password`;

/** A virtual platform authenticator (CTAP2, resident keys, user verification that passes). */
async function addAuthenticator(): Promise<string> {
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
    },
  });
  return authenticatorId;
}

test.beforeAll(async ({ browser, server }, testInfo) => {
  addUser(server, user(testInfo), password(testInfo));
  context = await pagesContext(browser, server, testInfo);
  page = await context.newPage();
  if (jsEnabled(testInfo)) {
    cdp = await context.newCDPSession(page);
    await cdp.send("WebAuthn.enable");
    authenticator = await addAuthenticator();
  }
});

test.afterAll(async () => {
  await context?.close();
});

async function signInWithPassword(testInfo: TestInfo) {
  await login(page, testInfo, user(testInfo), password(testInfo));
  await expect(page.locator(ids.whoami)).toContainText(user(testInfo));
}

/** `portcullis user <args>` with the server's public URL (the enrolment link is built on
 * it); the link it printed, as a path here. */
function passkeyLink(server: Server, args: string[]): string {
  const out = execFileSync(bin, ["user", ...args], {
    encoding: "utf8",
    env: { ...process.env, PORTCULLIS_DATA_DIR: server.dataDir, PORTCULLIS_PUBLIC_URL: server.url, PORTCULLIS_LOG: "warn" },
  });
  const link = out.split("\n").find((l) => l.startsWith(`${server.url}/passkey-enrolment?token=`));
  if (!link) throw new Error(`no link in: ${out}`);
  return link.slice(server.url.length);
}

async function signOut() {
  await page.locator(ids.logout).click();
  await expect(page).toHaveURL(/\/login$/);
}

test.describe("with JavaScript", () => {
  test.skip(({ javaScriptEnabled }) => !javaScriptEnabled, "WebAuthn needs JavaScript");

  test("add a passkey on Profile → Security", async ({}, testInfo) => {
    await signInWithPassword(testInfo);
    await goto(page, testInfo, "/profile/settings/security");
    await expect(page.getByText("No passkeys yet.")).toBeVisible();
    await expectAccessible(page, "security, no passkeys");
    await page.getByLabel("Name of the new passkey").fill("Laptop");
    await page.getByRole("button", { name: "Add a passkey" }).click();
    await expect(page.locator(ids.securityNotice)).toContainText("Passkey “Laptop” added");
    const item = page.locator(`${ids.passkeys} li`);
    await expect(item).toHaveCount(1);
    await expect(item).toContainText("Laptop");
    await expect(item).toContainText("Last used");
    await expect(item).toContainText("never");
    const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId: authenticator });
    expect(credentials).toHaveLength(1);
    expect(credentials[0].isResidentCredential, "discoverable").toBe(true);
    await expectAccessible(page, "security, one passkey");

    // The same authenticator again: it holds one for this account already.
    await page.getByLabel("Name of the new passkey").fill("Laptop again");
    await page.getByRole("button", { name: "Add a passkey" }).click();
    await expect(page.locator(ids.passkeyError)).toBeVisible();
    await expect(page.locator(`${ids.passkeys} li`)).toHaveCount(1);
  });

  test("sign out, and the username field's autofill signs in with the passkey", async ({}, testInfo) => {
    // The sign-in page asks for a passkey with conditional mediation as it loads: the
    // browser offers it in the username field's autofill, and the virtual authenticator
    // answers such a request with its one passkey at once, as a person picking it would.
    await Promise.all([page.waitForURL(/\/login$/), page.locator(ids.logout).click()]);
    await expect(page).toHaveURL(/\/$/);
    await expect(page.locator(ids.whoami)).toContainText(user(testInfo));

    // The session says how, and the passkey when it was last used.
    await goto(page, testInfo, "/profile/settings/sessions");
    await expect(page.getByText("Passkey", { exact: true }).first()).toBeVisible();
    await goto(page, testInfo, "/profile/settings/security");
    await expect(page.locator(`${ids.passkeys} li`)).not.toContainText("never");
  });

  test("sign in with the button: no username, no password", async ({}, testInfo) => {
    // From here on, a browser without autofill for passkeys: the button does it.
    await page.addInitScript(() => {
      PublicKeyCredential.isConditionalMediationAvailable = async () => false;
    });
    await signOut();
    await ready(page, testInfo);
    await expect(page.locator("#field-identifier")).toHaveAttribute("autocomplete", "username webauthn");
    await expectAccessible(page, "sign-in page with passkeys");
    await page.getByRole("button", { name: "Sign in with a passkey" }).click();
    await expect(page.locator(ids.whoami)).toContainText(user(testInfo));
  });

  test("a cloned authenticator whose counter went backwards is refused", async ({}, testInfo) => {
    const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId: authenticator });
    const original = credentials[0];
    expect(original.signCount).toBeGreaterThan(0);
    // The same key on another authenticator, its counter behind the original's.
    await cdp.send("WebAuthn.removeVirtualAuthenticator", { authenticatorId: authenticator });
    const clone = await addAuthenticator();
    await cdp.send("WebAuthn.addCredential", {
      authenticatorId: clone,
      credential: { ...original, signCount: 0 },
    });
    await signOut();
    await ready(page, testInfo);
    await page.getByRole("button", { name: "Sign in with a passkey" }).click();
    await expect(page.locator(ids.passkeyError)).toContainText("That passkey was not accepted");
    await expect(page).toHaveURL(/\/login$/);
    await expect(page.locator(ids.whoami)).toHaveCount(0);

    // The original (its counter ahead) still signs in.
    await cdp.send("WebAuthn.removeVirtualAuthenticator", { authenticatorId: clone });
    authenticator = await addAuthenticator();
    await cdp.send("WebAuthn.addCredential", { authenticatorId: authenticator, credential: original });
    await page.reload();
    await ready(page, testInfo);
    await page.getByRole("button", { name: "Sign in with a passkey" }).click();
    await expect(page.locator(ids.whoami)).toContainText(user(testInfo));
  });

  test("remove the passkey", async ({}, testInfo) => {
    await goto(page, testInfo, "/profile/settings/security");
    const item = page.locator(`${ids.passkeys} li`);
    await confirmIn(item, "Remove", "Laptop");
    await expect(page.locator(ids.securityNotice)).toContainText("Passkey “Laptop” removed");
    await expect(page.getByText("No passkeys yet.")).toBeVisible();
    await ready(page, testInfo);
    await expectAccessible(page, "security, passkey removed");

    // It signs in no more: the same refusal as any unknown passkey.
    await signOut();
    await ready(page, testInfo);
    await page.getByRole("button", { name: "Sign in with a passkey" }).click();
    await expect(page.locator(ids.passkeyError)).toContainText("That passkey was not accepted");
  });
});

test.describe("passkey-only accounts", () => {
  test.skip(({ javaScriptEnabled }) => !javaScriptEnabled, "WebAuthn needs JavaScript");

  test("an account without a password enrols its passkey through a one-time link", async ({ server }, testInfo) => {
    const name = `pat-${testInfo.project.name}`;
    const link = passkeyLink(server, ["add", "--username", name, "--email", `${name}@example.com`, "--passkey-only"]);
    // A fresh device: only this account's passkey on it.
    await cdp.send("WebAuthn.removeVirtualAuthenticator", { authenticatorId: authenticator });
    authenticator = await addAuthenticator();
    // (Signed out: the test before ends on the sign-in page.)
    await goto(page, testInfo, link);
    await expect(page.getByText(`Add a passkey to the account ${name}`)).toBeVisible();
    await expectAccessible(page, "enrolment link");
    await page.getByLabel("Name of the new passkey").fill("Phone");
    await page.getByRole("button", { name: "Add a passkey" }).click();
    await expect(page.locator(ids.whoami)).toContainText(name);

    // Used: the link works no more.
    await goto(page, testInfo, link);
    await expect(page.getByText("This enrolment link has expired or was used already")).toBeVisible();
    await expect(page.getByRole("button", { name: "Add a passkey" })).toHaveCount(0);

    // The passkey signs in.
    await signOut();
    await ready(page, testInfo);
    await page.getByRole("button", { name: "Sign in with a passkey" }).click();
    await expect(page.locator(ids.whoami)).toContainText(name);
    await goto(page, testInfo, "/profile/settings/security");
    await expect(page.locator(`${ids.passkeys} li`)).toContainText("Phone");
  });
});

test.describe("without JavaScript", () => {
  test.skip(({ javaScriptEnabled }) => javaScriptEnabled, "the words shown when scripts do not run");

  test("the pages say passkeys need JavaScript and keep the other ways in", async ({ browser, server }, testInfo) => {
    // As axe sees it: the app's scripts never load, so nothing of passkeys shows.
    await goto(page, testInfo, "/login");
    await expect(page.getByRole("button", { name: "Sign in with a passkey" })).toBeHidden();
    await expectAccessible(page, "sign-in page, scripts not loaded");

    // JavaScript really off: the <noscript> words, and the password form that works.
    const off = await browser.newContext({ baseURL: server.url, javaScriptEnabled: false });
    const plain = await off.newPage();
    await plain.goto("/login");
    await expect(plain.locator(ids.passkeyNoScript)).toHaveText(
      "Signing in with a passkey needs JavaScript. Turn it on, or sign in another way below.",
    );
    await expect(plain.getByRole("button", { name: "Sign in with a passkey" })).toBeHidden();
    await plain.getByLabel("Username or email").fill(user(testInfo));
    await plain.getByLabel("Password").fill(password(testInfo));
    await plain.getByRole("button", { name: "Sign in", exact: true }).click();
    await expect(plain.locator(ids.whoami)).toContainText(user(testInfo));
    await plain.goto("/profile/settings/security");
    await expect(plain.locator(ids.passkeyNoScript)).toContainText("Adding a passkey needs JavaScript");
    await expect(plain.getByRole("button", { name: "Add a passkey" })).toBeHidden();

    // An enrolment link says the same.
    const link = passkeyLink(server, ["passkey-link", "--user", user(testInfo)]);
    await plain.goto(link);
    await expect(plain.locator(ids.passkeyNoScript)).toContainText("Adding a passkey needs JavaScript");
    await off.close();
  });
});
