import { expect, test } from "./fixtures";
import { addUser, fillByLabel, goto, IDP, ids, jsEnabled, login, ready, shot } from "./helpers";

// A fresh installation of its own: OpenID Connect off, no providers, one administrator. The
// provider saved here is never signed in with (the client ID is only stored), so it names a
// client the test OpenID Provider need not know. The tests build on each other, in order.
test.use({ portcullis: {} });
test.describe.configure({ mode: "serial" });

test.beforeAll(({ server }) => addUser(server, "admin2", "admin2 password", true));

test.beforeEach(async ({ page }, testInfo) => {
  await login(page, testInfo, "admin2", "admin2 password");
  await expect(page.locator(ids.whoami)).toBeVisible();
});

test("turning OpenID Connect on opens its settings; the last login method stays on", async ({ page }, testInfo) => {
  await goto(page, testInfo, "/settings/users");
  await expect(page.locator(ids.oidcSwitch)).toHaveAttribute("aria-checked", "false");
  await expect(page.locator(ids.oidcSettingsLink)).toHaveCount(0);

  // Local sign-in is the only method: turning it off is refused with a reason.
  await page.locator(ids.localLoginSwitch).click();
  await expect(page.locator(ids.loginMethodsError)).toContainText("At least one login method must stay enabled");
  await ready(page, testInfo);

  await page.locator(ids.oidcSwitch).click();
  await expect(page).toHaveURL(/\/settings\/users\/oidc$/);
  await ready(page, testInfo);
  await expect(page.locator(ids.providerList)).toContainText("No providers yet");
  await goto(page, testInfo, "/settings/users");
  await expect(page.locator(ids.oidcSwitch)).toHaveAttribute("aria-checked", "true");
  await expect(page.locator(ids.oidcSettingsLink)).toBeVisible();
  await shot(page, testInfo, "login-methods");
});

test("add a provider through the editor", async ({ page }, testInfo) => {
  await goto(page, testInfo, "/settings/users/oidc");
  await page.locator(ids.addProvider).click();
  await expect(page.locator(ids.providerEditor)).toBeVisible();
  await ready(page, testInfo);
  await expect(page.locator("#redirect-uri")).toHaveValue(/\/login$/);

  if (jsEnabled(testInfo)) {
    // The name fills the slug until the slug is typed.
    await page.getByLabel("Provider Name").fill("Test IdP");
    await expect(page.getByLabel("Provider Slug")).toHaveValue("test-idp");
    // Each provider has a redirect URI of its own.
    await expect(page.locator("#redirect-uri")).toHaveValue(/\/login\/test-idp$/);
    // Live validation beside each field.
    await page.getByLabel("Issuer URL").fill("http://idp.example.com");
    await page.getByLabel("Issuer URL").blur();
    await expect(page.locator("#field-issuer_url-error")).toContainText("Use https://");
    await page.getByLabel("Logo", { exact: true }).fill("javascript:alert(1)");
    await page.getByLabel("Logo", { exact: true }).blur();
    await expect(page.locator("#field-logo-error")).toContainText("https:// image URL");
    await page.getByLabel("Scopes").fill("profile, email");
    await page.getByLabel("Scopes").blur();
    await expect(page.locator("#field-scopes-error")).toContainText("openid");
    await shot(page, testInfo, "editor-errors");

    // Test connection against the real provider.
    await page.getByLabel("Issuer URL").fill(IDP);
    await page.getByLabel("Scopes").fill("openid, profile, email");
    await page.locator(ids.testConnection).click();
    await expect(page.locator(ids.connectionReport)).toContainText("Connected: the issuer matches");
    await expect(page.locator(ids.connectionReport)).toContainText("RS256");
    await expect(page.locator(ids.connectionReport)).toContainText("supported");
  } else {
    await fillByLabel(page, {
      "Provider Name": "Test IdP",
      "Provider Slug": "test-idp",
      "Issuer URL": "http://idp.example.com",
      "Scopes": "openid, profile, email",
    });
  }

  // The server rejects what the browser would: nothing is saved, the form keeps its values.
  await fillByLabel(page, {
    "Logo": "data:text/html;base64,PHNjcmlwdD4=",
    "Client ID": "portcullis-basic",
    "Client Secret": "basic-secret",
    "Admin Claims": "groups=",
  });
  if (!jsEnabled(testInfo)) await page.getByLabel("Issuer URL").fill("http://idp.example.com");
  await page.locator(ids.saveProvider).click();
  await expect(page.locator(ids.editorError)).toContainText("Please correct the highlighted fields");
  await expect(page.locator("#field-logo-error")).toContainText("PNG, JPEG, WebP, GIF or SVG");
  await expect(page.locator("#field-admin_claims-error")).toContainText("nothing after '='");
  await ready(page, testInfo);
  if (jsEnabled(testInfo)) await expect(page.getByLabel("Provider Name")).toHaveValue("Test IdP");

  // Fix and save.
  await fillByLabel(page, {
    "Provider Name": "Test IdP",
    "Provider Slug": "test-idp",
    "Logo": "",
    "Issuer URL": IDP,
    "Client ID": "portcullis-basic",
    "Client Secret": "basic-secret",
    "Scopes": "openid, profile, email",
    "Admin Claims": "groups=portcullis-admins",
  });
  await shot(page, testInfo, "editor");
  await page.locator(ids.saveProvider).click();
  await expect(page).toHaveURL(/\/settings\/users\/oidc$/);
  await ready(page, testInfo);
  const card = page.locator(`${ids.providerList} [data-slug="test-idp"]`);
  await expect(card).toContainText("Test IdP");
  await expect(card).toContainText(IDP);
  await expect(card).toContainText("portcullis-basic");
  await expect(card).toContainText("Enabled");
  await expect(page.locator("body")).not.toContainText("basic-secret");
});

test("Enter in a field saves, and does not start a test sign-in", async ({ page }, testInfo) => {
  await goto(page, testInfo, "/settings/users/oidc/new");
  // Filled (the browser checks required fields first) with an issuer the server refuses.
  await fillByLabel(page, {
    "Provider Name": "Enter",
    "Provider Slug": "enter",
    "Issuer URL": "http://idp.example.com",
    "Client ID": "x",
    "Client Secret": "y",
  });
  await page.getByLabel("Client ID").press("Enter");
  await expect(page.locator(ids.editorError)).toContainText("Please correct the highlighted fields");
  await expect(page).toHaveURL(/\/settings\/users\/oidc\/new$/);
});

test("an unreachable issuer needs confirmation; edit, reorder, delete", async ({ page }, testInfo) => {
  await goto(page, testInfo, "/settings/users/oidc/new");
  const offline = {
    "Provider Name": "Offline",
    "Provider Slug": "offline",
    "Issuer URL": "http://127.0.0.1:9/offline",
    "Client ID": "x",
    "Client Secret": "y",
  };
  await fillByLabel(page, offline);
  await page.locator(ids.saveProvider).click();
  await expect(page.locator(ids.saveWarning)).toContainText("Could not reach the provider");
  await ready(page, testInfo);
  if (!jsEnabled(testInfo)) {
    // Without JavaScript the page was reloaded: type the secret again (it is never echoed).
    await fillByLabel(page, offline);
  }
  await page.getByRole("button", { name: "Save anyway" }).click();
  await expect(page).toHaveURL(/\/settings\/users\/oidc$/);
  await ready(page, testInfo);
  const slugs = () => page.locator(`${ids.providerList} [data-slug]`).evaluateAll((els) => els.map((e) => e.getAttribute("data-slug")));
  await expect.poll(slugs).toEqual(["test-idp", "offline"]);

  // Reorder.
  await page.getByRole("button", { name: "Move Offline up" }).click();
  await expect.poll(slugs).toEqual(["offline", "test-idp"]);
  await ready(page, testInfo);
  await shot(page, testInfo, "provider-list");

  // Edit: the secret is never shown; leaving it empty keeps it.
  await page.locator('[data-slug="offline"]').getByRole("link", { name: "Edit" }).click();
  await expect(page.locator(ids.providerEditor)).toContainText("A secret is set");
  await ready(page, testInfo);
  await expect(page.getByLabel("Client Secret")).toHaveValue("");
  await expect(page.getByLabel("Provider Slug")).toHaveAttribute("readonly", "");
  // A new provider's groups are kept apart (offline:<group>) unless marked authoritative.
  await expect(page.getByLabel("Groups are authoritative")).not.toBeChecked();
  // The stored secret was issued for this client: a new client ID (or issuer) asks for it.
  await page.getByLabel("Client ID").fill("another-client");
  await page.locator(ids.saveProvider).click();
  await expect(page.locator("#field-client_secret-error")).toContainText("enter the client secret again");
  await ready(page, testInfo);
  await page.getByLabel("Client ID").fill("x");
  await page.getByLabel("Provider Name").fill("Offline IdP");
  await page.getByLabel("Enabled").uncheck();
  await page.locator(ids.saveProvider).click();
  await expect(page).toHaveURL(/\/settings\/users\/oidc$/);
  await ready(page, testInfo);
  await expect(page.locator('[data-slug="offline"]')).toContainText("Offline IdP");
  await expect(page.locator('[data-slug="offline"]')).toContainText("Disabled");

  // Delete, with confirmation that says how many linked accounts go.
  await page.locator('[data-slug="offline"]').getByText("Delete", { exact: true }).click();
  await expect(page.locator('[data-slug="offline"] .confirm-box')).toContainText("No linked accounts will be removed.");
  await page.getByRole("button", { name: "Delete Offline IdP" }).click();
  await expect.poll(slugs).toEqual(["test-idp"]);
});
