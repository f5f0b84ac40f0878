// @ts-expect-error: a plain ES module without types (end2end/proxy/start.mjs)
import { startProxies } from "../proxy/start.mjs";
import { Browser, BrowserContext, expect, Page, test, TestInfo } from "./fixtures";
import { addUser, fillByLabel, ids, jsEnabled, ready } from "./helpers";
import { freePort } from "./server";

// Forward authentication through real reverse proxies: Caddy (forward_auth) and nginx
// (auth_request) in front of an application that echoes the headers it received
// (end2end/proxy/). The browser reaches app.portcullis.test and auth.portcullis.test on
// loopback (Chromium's --host-resolver-rules in playwright.config.ts); Portcullis shares its
// session cookie with them through --cookie-domain portcullis.test. A server of this spec's
// own, at auth.portcullis.test, and a client of its own at the test OpenID Provider (for this
// Portcullis's redirect URI). Alice is in the provider's group media-users (its groups claim,
// under the scope "portcullis"), which the application requires; Bob is not. The provider's
// groups are marked authoritative, so applications see media-users as sent (not
// test-idp:media-users).
test.use({
  portcullis: { host: "auth.portcullis.test", args: ["--cookie-domain", "portcullis.test", "--trusted-proxies", "127.0.0.1"] },
});
test.describe.configure({ mode: "serial" });

type Bench = { stop: () => Promise<void> };
let bench: Bench | undefined;
let auth = ""; // Portcullis as browsers reach it
const apps: Record<string, string> = {}; // the application's URL through each proxy

test.beforeAll(async ({ browser, server, testIdp }, testInfo) => {
  test.setTimeout(90_000);
  const [caddyPort, nginxPort, echoPort] = [await freePort(), await freePort(), await freePort()];
  auth = server.url;
  apps.Caddy = `http://app.portcullis.test:${caddyPort}`;
  apps.nginx = `http://app.portcullis.test:${nginxPort}`;

  addUser(server, "faadmin", "faadmin password", true);
  server.cli(
    ["provider", "add", "--slug", "test-idp", "--name", "Test IdP", "--issuer-url", testIdp.issuer, `--client-id=${testIdp.clientId}`,
      "--scopes", "openid, profile, email, portcullis", "--allow-new-users", "true", "--groups-authoritative", "true",
      // Its emails are trusted, so they reach the application as Remote-Email.
      "--link-by-email", "true", "--client-secret-stdin"],
    testIdp.clientSecret + "\n",
  );
  server.cli(["oidc", "enable"]);

  bench = await startProxies({ portcullis: `http://127.0.0.1:${server.port}`, caddyPort, nginxPort, echoPort });

  // The application, as an administrator adds it: reached through both proxies, for the
  // members of media-users only.
  const context = await browser.newContext({ javaScriptEnabled: jsEnabled(testInfo) });
  const page = await context.newPage();
  await page.goto(`${auth}/login`);
  await page.getByLabel("Username or email").fill("faadmin");
  await page.getByLabel("Password").fill("faadmin password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.locator(ids.whoami)).toBeVisible();
  await page.goto(`${auth}/settings/applications/new`);
  await ready(page, testInfo);
  await fillByLabel(page, { Name: "Echo", URLs: `${apps.Caddy}\n${apps.nginx}`, Groups: "media-users" });
  if (jsEnabled(testInfo)) await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await page.getByLabel("Listed users and groups").check();
  await page.locator(ids.saveApp).click();
  await expect(page.locator(`${ids.appList} [data-app="Echo"]`)).toContainText("groups media-users");
  await context.close();
});

test.afterAll(async () => {
  await bench?.stop();
});

/** A fresh browser context (no cookies), JavaScript on or off as the project says. */
async function fresh(browser: Browser, testInfo: TestInfo): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ javaScriptEnabled: jsEnabled(testInfo) });
  return { context, page: await context.newPage() };
}

/** Portcullis's login page, set to bring the browser back to `next`. */
async function expectLoginFor(page: Page, next: string) {
  await expect(page).toHaveURL((u) => u.origin === auth && u.pathname === "/login" && u.searchParams.get("next") === next);
}

/** From Portcullis's login page: the provider's button, then the provider's own login. */
async function signInAtProvider(page: Page, user: string) {
  await expect(page).toHaveURL((u) => u.origin === auth && u.pathname === "/login");
  await page.getByRole("link", { name: "Sign in with Test IdP" }).click();
  await expect(page).toHaveURL(/\/interaction\//);
  await page.locator('input[name="login"]').fill(user);
  await page.locator('input[name="password"]').fill("any password");
  await page.locator('button[type="submit"]').click();
}

/** A fresh browser asks for `target` signed out, is sent to Portcullis's login page for it,
 * signs in at the provider as `user` and is back at `target`. `headers` go with every request
 * (identity headers a client forges). */
async function signedInAt(browser: Browser, testInfo: TestInfo, target: string, user: string, headers?: Record<string, string>) {
  const { context, page } = await fresh(browser, testInfo);
  if (headers) await context.setExtraHTTPHeaders(headers);
  await page.goto(target);
  await expectLoginFor(page, target);
  await signInAtProvider(page, user);
  await expect(page).toHaveURL(target);
  return { context, page };
}

/** What the echo application received for `url` (the response of a fresh navigation). */
async function echoed(page: Page, url: string): Promise<{ url: string; headers: Record<string, string> }> {
  const res = await page.goto(url);
  expect(res?.status(), `${url} through the proxy`).toBe(200);
  expect(page.url()).toBe(url);
  return res!.json();
}

for (const proxy of ["Caddy", "nginx"]) {
  test.describe(proxy, () => {
    test("signed out: the login page, sign in with the provider, back at the exact URL with the identity headers", async ({ browser }, testInfo) => {
      // Portcullis's login page brings the browser back to the exact URL.
      const target = `${apps[proxy]}/library/series?sort=name&page=2`;
      const { context, page } = await signedInAt(browser, testInfo, target, "alice");
      const seen = await echoed(page, target);
      expect(seen.url).toBe("/library/series?sort=name&page=2");
      expect(seen.headers["remote-user"]).toBe("alice");
      expect(seen.headers["remote-email"]).toBe("alice@idp.example");
      expect(seen.headers["remote-name"]).toBe("Alice Idp");
      expect(seen.headers["remote-groups"]?.split(",")).toContain("media-users");
      await context.close();
    });

    test("a client-sent Remote-User never reaches the application", async ({ browser }, testInfo) => {
      // Signed out, the forged headers get nobody in: to the login page.
      const forged = { "Remote-User": "faadmin", "Remote-Groups": "admins", "Remote-Email": "x@evil.example" };
      const { context, page } = await signedInAt(browser, testInfo, `${apps[proxy]}/`, "alice", forged);
      // Signed in, the application sees who Portcullis says, not what the client sent.
      const seen = await echoed(page, `${apps[proxy]}/`);
      expect(seen.headers["remote-user"]).toBe("alice");
      expect(seen.headers["remote-email"]).toBe("alice@idp.example");
      expect(seen.headers["remote-groups"]).not.toContain("admins");
      await context.close();
    });

    test("a user outside the allowed group gets 403", async ({ browser }, testInfo) => {
      const target = `${apps[proxy]}/`;
      const { context, page } = await signedInAt(browser, testInfo, target, "bob");
      const res = await page.goto(target);
      expect(res?.status()).toBe(403);
      expect(await res!.text()).not.toContain("remote-user");
      await context.close();
    });

    test("sign-out ends access to the application", async ({ browser }, testInfo) => {
      const target = `${apps[proxy]}/`;
      const { context, page } = await signedInAt(browser, testInfo, target, "alice");
      expect((await echoed(page, target)).headers["remote-user"]).toBe("alice");

      // The start page on Portcullis shows the application as a tile; sign out there.
      await page.goto(`${auth}/`);
      await ready(page, testInfo);
      await expect(page.locator(`${ids.appTiles} [data-app="Echo"]`)).toHaveAttribute("href", `${apps.Caddy}/`);
      await page.locator(ids.logout).click();
      // Portcullis ends its session first, then (the provider's default "Sign out at the
      // provider too") asks the provider to end its own: access ends at the first step.
      await expect(page).toHaveURL((u) => u.pathname === "/session/end");

      await page.goto(target);
      await expectLoginFor(page, target);
      await context.close();
    });
  });
}
