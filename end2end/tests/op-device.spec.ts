import { APIRequestContext, BrowserContext, expect, Page, test } from "./fixtures";
import { addClientApp, addUser, expectAccessible, pagesContext, ready } from "./helpers";

// Portcullis as an OpenID Provider: the device authorization grant (RFC 8628;
// docs/openid-provider.md §3.9). A device (this test, over HTTP) asks for a code and polls
// the token endpoint while Chromium, signed out at first, opens the verification URI, signs
// in, finds the code filled in and approves. /device is server-rendered plain forms: it
// works without JavaScript and passes axe.
test.use({ portcullis: {} });
test.describe.configure({ mode: "serial" });

let clientId = "";
let context: BrowserContext;
let page: Page;

test.beforeAll(async ({ browser, server }, testInfo) => {
  addUser(server, "olive", "olive password");
  clientId = addClientApp(server, "TV",
    ["--redirect-uri", "https://tv.example/cb", "--client-auth", "none", "--device-flow", "true"]);
  context = await pagesContext(browser, server, testInfo);
  page = await context.newPage();
});

test.afterAll(async () => {
  await context?.close();
});

/** The device asks for a code. */
async function start(request: APIRequestContext) {
  const res = await request.post("/oauth2/device_authorization", {
    form: { client_id: clientId, scope: "openid profile" },
  });
  expect(res.status()).toBe(200);
  return await res.json();
}

/** One poll of the token endpoint: the status and the body. */
async function poll(request: APIRequestContext, deviceCode: string) {
  const res = await request.post("/oauth2/token", {
    form: { grant_type: "urn:ietf:params:oauth:grant-type:device_code", device_code: deviceCode, client_id: clientId },
  });
  return { status: res.status(), body: await res.json() };
}

test("a device signs in: sign in, the code filled in, Approve; the device's poll gets tokens once", async ({}, testInfo) => {
  const request = context.request;
  const device = await start(request);
  expect((await poll(request, device.device_code)).body.error).toBe("authorization_pending");

  await page.goto(device.verification_uri_complete);
  await expect(page).toHaveURL(/\/login\?next=%2Fdevice%3Fuser_code%3D/);
  await ready(page, testInfo);
  await page.getByLabel("Username or email").fill("olive");
  await page.getByLabel("Password").fill("olive password");
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Sign in on a device" })).toBeVisible();
  await expect(page.getByLabel("Code")).toHaveValue(device.user_code);
  await expectAccessible(page, "device code form");
  await page.getByRole("button", { name: "Continue" }).click();

  await expect(page.getByRole("heading", { name: "Sign in to TV on your device?" })).toBeVisible();
  await expect(page.getByText(device.user_code)).toBeVisible();
  await expect(page.getByRole("listitem")).toHaveText(["Your name and username"]);
  await expectAccessible(page, "device question");
  await page.getByRole("button", { name: "Approve" }).click();
  await expect(page.getByRole("heading", { name: "Device signed in" })).toBeVisible();
  await expectAccessible(page, "device signed in");

  const tokens = await poll(request, device.device_code);
  expect(tokens.status).toBe(200);
  expect(tokens.body.id_token).toBeTruthy();
  expect(tokens.body.access_token).toBeTruthy();
  expect((await poll(request, device.device_code)).body.error).toBe("invalid_grant");
});

test("a mistyped code is 'not valid or expired', by the field", async () => {
  await page.goto("/device");
  await page.getByLabel("Code").fill("bcdf-ghjk");
  await page.getByRole("button", { name: "Continue" }).click();
  await expect(page.getByRole("alert")).toContainText("not valid or has expired");
  await expect(page.getByLabel("Code")).toHaveAttribute("aria-invalid", "true");
  await expect(page.getByLabel("Code")).toHaveValue("bcdf-ghjk");
  await expectAccessible(page, "device code refused");
});

test("Deny: the device is told access_denied", async () => {
  const request = context.request;
  const device = await start(request);
  await page.goto("/device");
  await page.getByLabel("Code").fill(device.user_code.toLowerCase());
  await page.getByRole("button", { name: "Continue" }).click();
  await page.getByRole("button", { name: "Deny" }).click();
  await expect(page.getByRole("heading", { name: "Sign-in refused" })).toBeVisible();
  expect((await poll(request, device.device_code)).body.error).toBe("access_denied");
});
