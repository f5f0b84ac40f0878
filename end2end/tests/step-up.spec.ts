// @ts-expect-error: a plain ES module without types (end2end/proxy/start.mjs)
import { startProxies } from "../proxy/start.mjs";
import { BrowserContext, expect, Page, test, TestInfo } from "./fixtures";
import { addUser, awayFromAStepEdge, expectAccessible, ids, jsEnabled, ready, totp } from "./helpers";
import { freePort } from "./server";

// The step-up (issue 22 item 3) behind real Caddy: an application that requires a second
// factor sends a browser signed in with a password alone to Portcullis's /second-factor,
// which asks for a one-time code and then lands on the exact URL (path and query) the
// browser asked for. An account with no second factor yet is told where to add one. The
// bench is forward-auth.spec.ts's (end2end/proxy/, the README's Caddyfile); JavaScript on
// and off (off as in totp.spec.ts: the app's scripts never load, forms post as plain HTML
// and the continue page moves on by its meta refresh); axe-checked.
test.use({
  portcullis: { host: "auth.portcullis.test", args: ["--cookie-domain", "portcullis.test", "--trusted-proxies", "127.0.0.1"] },
});
test.describe.configure({ mode: "serial", timeout: 120_000 });

type Bench = { stop: () => Promise<void> };
let bench: Bench | undefined;
let auth = "";
let vault = ""; // the application through Caddy
let context: BrowserContext;
let page: Page;

const user = (testInfo: TestInfo) => `sue-${testInfo.project.name}`;
const password = (testInfo: TestInfo) => `${user(testInfo)} password`;
const target = () => `${vault}/secrets/list?folder=home&page=2`;

test.beforeAll(async ({ browser, server }, testInfo) => {
  test.setTimeout(90_000);
  const [caddyPort, nginxPort, echoPort] = [await freePort(), await freePort(), await freePort()];
  auth = server.url;
  vault = `http://app.portcullis.test:${caddyPort}`;
  addUser(server, user(testInfo), password(testInfo));
  server.cli(["app", "add", "--name", "Vault", "--url", vault, "--require-second-factor", "true"]);
  bench = await startProxies({ portcullis: `http://127.0.0.1:${server.port}`, caddyPort, nginxPort, echoPort });
  context = await browser.newContext({ bypassCSP: true, javaScriptEnabled: true });
  if (!jsEnabled(testInfo)) await context.route(/\/pkg\//, (route) => route.abort());
  page = await context.newPage();
});

test.afterAll(async () => {
  await context?.close();
  await bench?.stop();
});

/** At Portcullis's step-up page, set to bring the browser back to `next`. */
async function expectStepUpFor(next: string, testInfo: TestInfo) {
  await expect(page).toHaveURL((u) => u.origin === auth && u.pathname === "/second-factor" && u.searchParams.get("next") === next);
  await ready(page, testInfo);
}

test("signed in with a password alone, the application asks for a second factor", async ({}, testInfo) => {
  await page.goto(target());
  await expect(page).toHaveURL((u) => u.origin === auth && u.pathname === "/login" && u.searchParams.get("next") === target());
  await ready(page, testInfo);
  await page.getByLabel("Username or email").fill(user(testInfo));
  await page.getByLabel("Password").fill(password(testInfo));
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  // Back at the application, which sends the browser on to give its second factor.
  await expectStepUpFor(target(), testInfo);
  await expect(page.locator(ids.stepUp)).toContainText(`Signed in as ${user(testInfo)}`);
  await expect(page.locator(ids.secondFactorForm)).toContainText("This account has no second factor yet");
  await expect(page.getByRole("link", { name: "Profile → Security" })).toHaveAttribute("href", "/profile/settings/security");
  await expectAccessible(page, "step-up, no second factor yet");
});

test("with one-time codes set up, a code lands on the exact URL", async ({}, testInfo) => {
  await page.goto(`${auth}/profile/settings/security`);
  await ready(page, testInfo);
  await page.locator(ids.totpStart).click();
  await expect(page.locator(ids.totpQr)).toBeVisible();
  await ready(page, testInfo);
  const secret = (await page.locator(ids.totpSecret).textContent())?.trim() ?? "";
  expect(secret).toMatch(/^[A-Z2-7]{32}$/);
  await awayFromAStepEdge();
  // The previous step's code, so the current one is still unused for the step-up.
  await page.getByLabel("Code from the app").fill(totp(secret, -1));
  await page.getByRole("button", { name: "Turn on" }).click();
  await expect(page.locator(ids.securityNotice)).toContainText("One-time codes are on");

  await page.goto(target());
  await expectStepUpFor(target(), testInfo);
  await expect(page.locator(ids.stepUp)).toContainText("needs a second factor");
  await expectAccessible(page, "step-up");

  const right = totp(secret);
  const wrong = right.replace(/\d/g, (d) => String((Number(d) + 1) % 10));
  await page.getByLabel("One-time code or recovery code").fill(wrong);
  await page.getByRole("button", { name: "Continue" }).click();
  await expect(page.locator(ids.secondFactorError)).toBeVisible();
  await expectStepUpFor(target(), testInfo);
  await expectAccessible(page, "step-up, a wrong code");

  await page.getByLabel("One-time code or recovery code").fill(right);
  await page.getByRole("button", { name: "Continue" }).click();
  await expect(page).toHaveURL(target());
  const seen = JSON.parse((await page.locator("body").textContent()) ?? "{}");
  expect(seen.url).toBe("/secrets/list?folder=home&page=2");
  expect(seen.headers["remote-user"]).toBe(user(testInfo));

  // This session has shown two factors: the application opens straight away.
  const res = await page.goto(`${vault}/`);
  expect(res?.status()).toBe(200);
  expect(page.url()).toBe(`${vault}/`);
});
