import { BrowserContext, expect, Page, test, TestInfo } from "./fixtures";
import { addUser, awayFromAStepEdge, expectAccessible, goto, ids, pagesContext, ready, totp } from "./helpers";

// One-time codes (TOTP) as a second factor: set up on Profile → Security (the QR code, the
// key as text, confirmed with a code, the recovery codes shown once), then a password sign-in
// that asks for the code. Codes are computed here by RFC 6238 (node's HMAC-SHA-1) from the
// key the page shows, at the real time. With JavaScript on and off, axe-checked at each step.
//
// axe-core needs JavaScript, so "off" means as in a11y.spec.ts: the app's own scripts never
// load, and every form posts as a plain HTML form.
test.use({ portcullis: {} });
test.describe.configure({ mode: "serial", timeout: 120_000 });

let context: BrowserContext;
let page: Page;

const user = (testInfo: TestInfo) => `otto-${testInfo.project.name}`;
const password = (testInfo: TestInfo) => `${user(testInfo)} password`;

test.beforeAll(async ({ browser, server }, testInfo) => {
  addUser(server, user(testInfo), password(testInfo));
  context = await pagesContext(browser, server, testInfo);
  page = await context.newPage();
});

test.afterAll(async () => {
  await context?.close();
});

async function signInWithPassword(testInfo: TestInfo) {
  await goto(page, testInfo, "/login");
  await page.getByLabel("Username or email").fill(user(testInfo));
  await page.getByLabel("Password").fill(password(testInfo));
  await page.getByRole("button", { name: "Sign in" }).click();
}

let secret = "";

test("set up one-time codes on Profile → Security", async ({}, testInfo) => {
  await signInWithPassword(testInfo);
  await expect(page.locator(ids.whoami)).toContainText(user(testInfo));
  await goto(page, testInfo, "/profile/settings");
  await expect(page.locator(ids.securityTab)).toHaveAttribute("href", "/profile/settings/security");
  await goto(page, testInfo, "/profile/settings/security");
  await expect(page.locator(ids.securityTab)).toHaveAttribute("aria-current", "page");
  await expect(page.locator(ids.totpStatus)).toContainText("Off.");
  await expectAccessible(page, "security, off");

  await page.locator(ids.totpStart).click();
  await expect(page.locator(ids.totpQr)).toBeVisible();
  await ready(page, testInfo);
  secret = (await page.locator(ids.totpSecret).textContent())?.trim() ?? "";
  expect(secret).toMatch(/^[A-Z2-7]{32}$/);
  const qr = await page.locator(ids.totpQr).getAttribute("src");
  expect(qr).toMatch(/^data:image\/svg\+xml;base64,/);
  // The QR code holds the otpauth URI with the same key.
  const svg = Buffer.from(qr!.split(",")[1], "base64").toString();
  expect(svg).toContain("<svg");
  await expectAccessible(page, "security, setting up");

  // A wrong code: an error at the field, still setting up.
  await awayFromAStepEdge();
  const right = totp(secret);
  const wrong = right.replace(/\d/g, (d) => String((Number(d) + 1) % 10));
  await page.getByLabel("Code from the app").fill(wrong);
  await page.getByRole("button", { name: "Turn on" }).click();
  await expect(page.locator(ids.securityError)).toBeVisible();
  await expect(page.locator("#field-code-error")).toContainText("That code is not right");
  await ready(page, testInfo);
  await expectAccessible(page, "security, a wrong code");

  // The previous step's code (one step of skew), so the current one is still unused for
  // the sign-in below.
  await page.getByLabel("Code from the app").fill(totp(secret, -1));
  await page.getByRole("button", { name: "Turn on" }).click();
  await expect(page.locator(ids.securityNotice)).toContainText("One-time codes are on");
  await expect(page.locator(`${ids.recoveryCodes} li`)).toHaveCount(10);
  await ready(page, testInfo);
  await expectAccessible(page, "security, recovery codes");

  // Shown once.
  await goto(page, testInfo, "/profile/settings/security");
  await expect(page.locator(ids.recoveryCodes)).toHaveCount(0);
  await expect(page.locator(ids.totpStatus)).toContainText("10 unused recovery codes left");
});

test("a password sign-in then asks for the code", async ({}, testInfo) => {
  expect(secret, "set up by the test before").not.toBe("");
  await page.locator(ids.logout).click();
  await expect(page).toHaveURL(/\/login/);
  await signInWithPassword(testInfo);
  await expect(page).toHaveURL(/\/second-factor$/);
  await ready(page, testInfo);
  await expect(page.locator(ids.whoami)).toHaveCount(0);
  await expectAccessible(page, "second factor");

  await page.getByLabel("One-time code or recovery code").fill("000000x");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.locator(ids.secondFactorError)).toBeVisible();
  await ready(page, testInfo);
  await expectAccessible(page, "second factor, a wrong code");
  // Still not signed in.
  await goto(page, testInfo, "/profile/settings");
  await expect(page).toHaveURL(/\/login/);

  await goto(page, testInfo, "/second-factor");
  await awayFromAStepEdge();
  await page.getByLabel("One-time code or recovery code").fill(totp(secret));
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.locator(ids.whoami)).toContainText(user(testInfo));
});
