import { expect, Page, test, TestInfo } from "./fixtures";
import { addTestIdp, addUser, goto, ICONS, ids, jsEnabled, login, ready, shot } from "./helpers";

// Edits provider "test-idp" on an installation of its own. The icon catalogue is the
// selfh.st sample in fixtures/selfhst, served by end2end/icons/serve.mjs.
test.use({ portcullis: {} });
test.describe.configure({ mode: "serial" });

const KEYCLOAK_DARK = `${ICONS}/svg/keycloak-dark.svg`;

// Its administrator signs in once a test (sign-ins are rate-limited per account, 5 a minute).
test.beforeAll(({ server, testIdp }) => {
  addUser(server, "picker", "picker password", true);
  addTestIdp(server, testIdp);
});

async function editTestIdp(page: Page, testInfo: TestInfo) {
  await login(page, testInfo, "picker", "picker password");
  await expect(page.locator(ids.whoami)).toBeVisible();
  await goto(page, testInfo, "/settings/users/oidc/edit/test-idp");
  await expect(page.locator(ids.providerEditor)).toBeVisible();
}

const options = (page: Page) => page.locator(`${ids.iconResults} [role="option"]`);

test("without JavaScript the editor points to the catalogue instead", async ({ page }, testInfo) => {
  test.skip(jsEnabled(testInfo), "the picker itself is tested with JavaScript on");
  await editTestIdp(page, testInfo);
  await expect(page.getByRole("link", { name: "selfh.st/icons" })).toHaveAttribute("href", "https://selfh.st/icons/");
});

test("search, pick Keycloak (dark), save, and see it on the login page", async ({ page }, testInfo) => {
  test.skip(!jsEnabled(testInfo), "needs JavaScript");
  await editTestIdp(page, testInfo);
  await page.locator(ids.logoSearch).click();
  const dialog = page.getByRole("dialog", { name: "Choose a logo" });
  await expect(dialog).toBeVisible();
  await expect(page.locator(ids.iconSearch)).toBeFocused();
  // Empty query: identity providers first.
  await expect(options(page).first()).toHaveAttribute("data-reference", "keycloak");
  await expect(dialog.getByRole("status")).toContainText("identity providers first");
  // Only a page of results is in the DOM.
  expect(await options(page).count()).toBeLessThanOrEqual(60);

  await page.locator(ids.iconSearch).fill("keycl");
  await expect(options(page).first()).toHaveAttribute("data-reference", "keycloak");
  await expect(options(page).first()).toContainText("Keycloak");
  await expect(options(page).first()).toContainText("SVG · PNG · WebP · Light · Dark");
  await page.locator(ids.iconVariant).selectOption("dark");
  await expect(options(page).first().locator("img")).toHaveAttribute("src", KEYCLOAK_DARK);
  await shot(page, testInfo, "icon-picker");

  await options(page).first().click();
  await expect(dialog).toHaveCount(0);
  await expect(page.locator(ids.logoField)).toHaveValue(KEYCLOAK_DARK);
  await expect(page.locator(ids.logoField)).toBeFocused();
  const preview = page.locator(`${ids.logoPreview} img`);
  await expect(preview).toHaveAttribute("src", KEYCLOAK_DARK);
  await expect.poll(() => preview.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBeGreaterThan(0);

  await page.locator(ids.saveProvider).click();
  await expect(page).toHaveURL(/\/settings\/users\/oidc$/);
  await ready(page, testInfo);
  await page.locator(ids.logout).click();
  await expect(page).toHaveURL(/\/login$/);
  await ready(page, testInfo);
  const logo = page.getByRole("link", { name: "Sign in with Test IdP" }).locator("img");
  await expect(logo).toHaveAttribute("src", KEYCLOAK_DARK);
  // Loaded, so the page's Content-Security-Policy allows the icon host.
  await expect.poll(() => logo.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBeGreaterThan(0);
  await shot(page, testInfo, "login-with-logo");
});

test("the same with the keyboard only: typo, variant, arrows, Enter; focus stays inside", async ({ page }, testInfo) => {
  test.skip(!jsEnabled(testInfo), "needs JavaScript");
  await editTestIdp(page, testInfo);
  await page.locator(ids.logoField).fill("");
  await page.locator(ids.logoField).focus();
  await page.keyboard.press("Tab");
  await expect(page.locator(ids.logoSearch)).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(page.locator(ids.iconSearch)).toBeFocused();

  // Arrows move the active option (announced through aria-activedescendant); "k" matches
  // many icons.
  const search = page.locator(ids.iconSearch);
  await page.keyboard.type("k");
  await expect(search).toHaveAttribute("aria-activedescendant", "icon-option-0");
  await page.keyboard.press("ArrowDown");
  await expect(search).toHaveAttribute("aria-activedescendant", "icon-option-1");
  await expect(options(page).nth(1)).toHaveAttribute("aria-selected", "true");
  await page.keyboard.press("ArrowUp");
  await expect(search).toHaveAttribute("aria-activedescendant", "icon-option-0");

  // Typing on, with a typo: Keycloak is still found.
  await page.keyboard.type("eycloack");
  await expect(search).toHaveValue("keycloack");
  await expect(options(page).first()).toHaveAttribute("data-reference", "keycloak");
  // Tab to the variant select and choose Dark (Default, Light, Dark).
  await page.keyboard.press("Tab");
  await expect(page.locator(ids.iconFormat)).toBeFocused();
  await page.keyboard.press("Tab");
  await expect(page.locator(ids.iconVariant)).toBeFocused();
  await page.locator(ids.iconVariant).press("ArrowDown");
  await page.locator(ids.iconVariant).press("ArrowDown");
  await expect(page.locator(ids.iconVariant)).toHaveValue("dark");
  await page.keyboard.press("Shift+Tab");
  await page.keyboard.press("Shift+Tab");
  await expect(page.locator(ids.iconSearch)).toBeFocused();

  await expect(search).toHaveAttribute("aria-activedescendant", "icon-option-0");
  await expect(options(page).first()).toHaveAttribute("aria-selected", "true");
  await page.keyboard.press("Enter");
  await expect(page.locator(ids.iconPicker)).toHaveCount(0);
  await expect(page.locator(ids.logoField)).toHaveValue(KEYCLOAK_DARK);
  await expect(page.locator(ids.logoField)).toBeFocused();
  await expect(page.locator(ids.providerEditor)).toBeVisible(); // Enter did not submit the form

  // Tab and Shift+Tab wrap inside the dialog; Escape closes it and focus returns.
  await page.keyboard.press("Tab");
  await page.keyboard.press("Enter");
  await expect(page.locator(ids.iconSearch)).toBeFocused();
  for (const key of ["Shift+Tab", "Shift+Tab", "Tab", "Tab", "Tab", "Tab", "Tab", "Tab"]) {
    await page.keyboard.press(key);
    expect(await page.evaluate(() => !!document.activeElement?.closest("#icon-picker"))).toBe(true);
  }
  await page.keyboard.press("Escape");
  await expect(page.locator(ids.iconPicker)).toHaveCount(0);
  await expect(page.locator(ids.logoField)).toBeFocused();
});

test("upload a small image as a data URI; a large one is refused with the limit", async ({ page }, testInfo) => {
  test.skip(!jsEnabled(testInfo), "needs JavaScript");
  await editTestIdp(page, testInfo);
  const svg = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 8 8"><rect width="8" height="8" fill="red"/></svg>';
  await page.locator(ids.logoUpload).setInputFiles({ name: "red.svg", mimeType: "image/svg+xml", buffer: Buffer.from(svg) });
  await expect(page.locator(ids.logoField)).toHaveValue(`data:image/svg+xml;base64,${Buffer.from(svg).toString("base64")}`);
  await expect(page.locator(`${ids.logoPreview} img`)).toHaveAttribute("src", /^data:image\/svg\+xml;base64,/);

  await page.locator(ids.logoUpload).setInputFiles({ name: "huge.png", mimeType: "image/png", buffer: Buffer.alloc(400 * 1024, 1) });
  await expect(page.locator(ids.logoUploadError)).toContainText("huge.png is 400 KB; an uploaded logo can be at most");
  await expect(page.locator(ids.logoField)).toHaveValue(/^data:image\/svg\+xml/); // unchanged
});

test("when the catalogue cannot be loaded, the picker says why and takes a pasted URL", async ({ page }, testInfo) => {
  test.skip(!jsEnabled(testInfo), "needs JavaScript");
  await editTestIdp(page, testInfo);
  // The answer the server gives when it never got a copy (server/tests/icons.rs checks that
  // the server does give it); here only the picker's handling of it is under test.
  await page.route("**/api/v1/icons", (route) =>
    route.fulfill({
      status: 503,
      contentType: "application/json",
      body: JSON.stringify({
        error: "icons_unavailable",
        message: "The icon catalogue could not be loaded: https://cdn.example/index.json could not be reached.",
      }),
    }),
  );
  await page.locator(ids.logoSearch).click();
  const dialog = page.getByRole("dialog", { name: "Choose a logo" });
  await expect(dialog.getByRole("alert")).toContainText("could not be reached");
  await expect(dialog.getByRole("status")).toContainText("unavailable");
  await shot(page, testInfo, "icon-picker-unavailable");
  await page.locator(ids.iconPaste).fill(`${ICONS}/svg/authentik.svg`);
  await dialog.getByRole("button", { name: "Use this URL" }).click();
  await expect(dialog).toHaveCount(0);
  await expect(page.locator(ids.logoField)).toHaveValue(`${ICONS}/svg/authentik.svg`);

  // Enter in the URL box uses it too, and does not submit the editor around the dialog.
  await page.locator(ids.logoSearch).click();
  await page.locator(ids.iconPaste).fill(`${ICONS}/svg/zitadel.svg`);
  await page.locator(ids.iconPaste).press("Enter");
  await expect(dialog).toHaveCount(0);
  await expect(page.locator(ids.logoField)).toHaveValue(`${ICONS}/svg/zitadel.svg`);
  await expect(page).toHaveURL(/\/edit\/test-idp$/);
});
