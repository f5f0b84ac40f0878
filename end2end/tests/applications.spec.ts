import { Browser, BrowserContext, expect, Page, Server, test, TestInfo } from "./fixtures";
import { addUser, fillByLabel, ICONS, ids, jsEnabled, ready, shot } from "./helpers";

// Settings → Applications and the start page's tiles, on an installation of its own. The
// tests build on each other, in order.
test.use({ portcullis: {} });
test.describe.configure({ mode: "serial" });

const LLDAP = `${ICONS}/svg/lldap.svg`;
const KANIDM = `${ICONS}/svg/kanidm.svg`;
const PHOTOS_SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 8 8"><rect width="8" height="8" fill="teal"/></svg>';

let admin: { context: BrowserContext; page: Page };

/** A browser context of its own for `username` (its own cookies), signed in. */
async function signedIn(browser: Browser, server: Server, testInfo: TestInfo, username: string) {
  const context = await browser.newContext({ baseURL: server.url, javaScriptEnabled: jsEnabled(testInfo) });
  const page = await context.newPage();
  await page.goto("/login");
  await ready(page, testInfo);
  await page.getByLabel("Username or email").fill(username);
  await page.getByLabel("Password").fill(`${username} password`);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.locator(ids.whoami)).toHaveAttribute("data-username", username);
  await ready(page, testInfo);
  return { context, page };
}

/** The editor of application `name`, from the applications list. */
async function openEditor(page: Page, testInfo: TestInfo, name: string) {
  await visit(page, testInfo, "/settings/applications");
  await page.getByRole("link", { name: `Edit ${name}` }).click();
  await expect(page.locator(ids.appEditor)).toContainText("Edit Application");
  await ready(page, testInfo);
}

test.beforeAll(async ({ browser, server }, testInfo) => {
  for (const [username, isAdmin] of [["appadmin", true], ["ann", false], ["carl", false], ["ben", false]] as const) {
    addUser(server, username, `${username} password`, isAdmin);
  }
  server.cli(["group", "assign", "--user", "ben", "--group", "family"]);
  admin = await signedIn(browser, server, testInfo, "appadmin");
});

test.afterAll(async () => {
  await admin?.context.close();
});

async function visit(page: Page, testInfo: TestInfo, url: string) {
  await page.goto(url);
  await ready(page, testInfo);
}

/** The names of the applications in the settings list, in order. */
function listed(page: Page) {
  return page.locator(`${ids.appList} > li[data-app]`).evaluateAll((lis) => lis.map((li) => li.getAttribute("data-app")));
}

/** Leaves the field being typed in, as a person moving on does. The editor checks a field
 * when it is left and shows its error below it, which moves what is below: a click that
 * lands only after that would miss its target. */
async function leaveField(page: Page, testInfo: TestInfo) {
  if (jsEnabled(testInfo)) await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
}

/** Fills the editor (the access choice by its label) and saves; expects the list back. */
async function save(page: Page, testInfo: TestInfo, fields: Record<string, string>, access: string) {
  await fillByLabel(page, fields);
  await leaveField(page, testInfo);
  await page.getByLabel(access, { exact: true }).check();
  await page.locator(ids.saveApp).click();
  await expect(page).toHaveURL(/\/settings\/applications$/);
  await ready(page, testInfo);
}

test("the start page and the settings say what to do when there are no applications", async ({}, testInfo) => {
  const { page } = admin;
  await visit(page, testInfo, "/");
  await expect(page.locator(ids.appTilesEmpty)).toContainText("No applications yet");
  await page.locator(ids.appTilesEmpty).getByRole("link", { name: "Settings → Applications" }).click();
  await expect(page).toHaveURL(/\/settings\/applications$/);
  await ready(page, testInfo);
  await expect(page.locator(ids.appList)).toContainText("No applications yet");
});

test("field errors beside the fields, from the browser and from the server", async ({}, testInfo) => {
  const { page } = admin;
  await visit(page, testInfo, "/settings/applications");
  await page.locator(ids.addApp).click();
  await expect(page.locator(ids.appEditor)).toBeVisible();
  await ready(page, testInfo);

  if (jsEnabled(testInfo)) {
    // Live, as the admin leaves each field: the same rule the server runs.
    await page.getByLabel("URLs").fill("lldap.portcullis.test");
    await page.getByLabel("URLs").blur();
    await expect(page.locator("#field-urls-error")).toContainText("start the URL with https://");
    // In the browser the URL is parsed by the browser's own URL parser (src/web_url.rs):
    // what it finds is what the server's parser finds.
    for (const [typed, said] of [
      ["https://lldap.portcullis.test/?tab=users", "remove the query"],
      ["https://admin:pw@lldap.portcullis.test", "remove the user name and password"],
      ["https://lldap.portcullis.test:99999", "is not a URL"],
    ]) {
      await page.getByLabel("URLs").fill(typed);
      await page.getByLabel("URLs").blur();
      await expect(page.locator("#field-urls-error"), typed).toContainText(said);
    }
    await page.getByLabel("URLs").fill("https://LLDAP.portcullis.test:443/admin/");
    await page.getByLabel("URLs").blur();
    await expect(page.locator("#field-urls-error")).toHaveText("");
    await page.getByLabel("URLs").fill("lldap.portcullis.test");
    await page.getByLabel("URLs").blur();
    await page.getByLabel("Listed users and groups").check();
    await page.getByLabel("Listed users and groups").blur();
    await expect(page.locator("#field-users-error")).toContainText("Name at least one user or group");
    await shot(page, testInfo, "app-editor-live-errors");
  }
  // The server refuses the same: nothing is saved, each error is beside its field.
  await fillByLabel(page, { Name: "LLDAP", URLs: "lldap.portcullis.test", Icon: "data:text/html;base64,PHNjcmlwdD4=" });
  await leaveField(page, testInfo);
  await page.getByLabel("Listed users and groups").check();
  await page.locator(ids.saveApp).click();
  await expect(page.locator(ids.appEditorError)).toContainText("Please correct the highlighted fields");
  await expect(page.locator("#field-urls-error")).toContainText("start the URL with https://");
  await expect(page.locator("#field-icon-error")).toContainText("PNG, JPEG, WebP, GIF or SVG");
  await expect(page.locator("#field-users-error")).toContainText("Name at least one user or group");
  await ready(page, testInfo);
  await visit(page, testInfo, "/settings/applications");
  await expect(page.locator(ids.appList)).toContainText("No applications yet");
});

test("add applications, one with an icon from the picker", async ({}, testInfo) => {
  const { page } = admin;
  await visit(page, testInfo, "/settings/applications/new");
  if (jsEnabled(testInfo)) {
    await page.locator(ids.logoSearch).click();
    const dialog = page.getByRole("dialog", { name: "Choose a logo" });
    await page.locator(ids.iconSearch).fill("lldap");
    const first = page.locator(`${ids.iconResults} [role="option"]`).first();
    await expect(first).toHaveAttribute("data-reference", "lldap");
    await first.click();
    await expect(dialog).toHaveCount(0);
    await expect(page.locator(ids.iconField)).toHaveValue(LLDAP);
    await expect(page.locator(`${ids.logoPreview} img`)).toHaveAttribute("src", LLDAP);
  } else {
    // Without JavaScript the field takes the image URL typed in.
    await page.locator(ids.iconField).fill(LLDAP);
  }
  await shot(page, testInfo, "app-editor");
  await save(
    page,
    testInfo,
    { Name: "LLDAP", URLs: "https://lldap.portcullis.test\nhttps://home.portcullis.test/lldap/" },
    "Every signed-in user",
  );
  const card = page.locator(`${ids.appList} [data-app="LLDAP"]`);
  await expect(card.locator("img")).toHaveAttribute("src", LLDAP);
  await expect(card).toContainText("https://lldap.portcullis.test/");
  await expect(card).toContainText("https://home.portcullis.test/lldap");
  await expect(card).toContainText("Every signed-in user");

  await page.locator(ids.addApp).click();
  await expect(page.locator(ids.appEditor)).toBeVisible();
  await ready(page, testInfo);
  await save(page, testInfo, { Name: "Admin Panel", URLs: "https://admin.portcullis.test", Icon: KANIDM }, "Administrators");
  await page.locator(ids.addApp).click();
  await ready(page, testInfo);
  if (jsEnabled(testInfo)) {
    // An uploaded image becomes a data: URI in the field (the start page gets it from a URL
    // of its own).
    await page.locator(ids.logoUpload).setInputFiles({ name: "photos.svg", mimeType: "image/svg+xml", buffer: Buffer.from(PHOTOS_SVG) });
    await expect(page.locator(ids.iconField)).toHaveValue(`data:image/svg+xml;base64,${Buffer.from(PHOTOS_SVG).toString("base64")}`);
  }
  await save(page, testInfo, { Name: "Photos", URLs: "https://photos.portcullis.test", Users: "ann", Groups: "family" }, "Listed users and groups");
  await expect(page.locator(`${ids.appList} [data-app="Photos"]`)).toContainText("users ann; groups family");
  expect(await listed(page)).toEqual(["LLDAP", "Admin Panel", "Photos"]);
  await shot(page, testInfo, "apps-settings");
});

test("edit an application: the editor starts from what is stored", async ({}, testInfo) => {
  const { page } = admin;
  await openEditor(page, testInfo, "LLDAP");
  await expect(page.getByLabel("Name", { exact: true })).toHaveValue("LLDAP");
  await expect(page.getByLabel("URLs")).toHaveValue("https://lldap.portcullis.test/\nhttps://home.portcullis.test/lldap");
  await expect(page.locator(ids.iconField)).toHaveValue(LLDAP);
  await expect(page.getByLabel("Every signed-in user")).toBeChecked();
  await save(page, testInfo, { Name: "LLDAP Directory" }, "Every signed-in user");
  expect(await listed(page)).toEqual(["LLDAP Directory", "Admin Panel", "Photos"]);
});

test("reorder with the arrows", async ({}, testInfo) => {
  const { page } = admin;
  await visit(page, testInfo, "/settings/applications");
  await expect(page.getByRole("button", { name: "Move LLDAP Directory up" })).toBeDisabled();
  await expect(page.getByRole("button", { name: "Move Photos down" })).toBeDisabled();
  await page.getByRole("button", { name: "Move Photos up" }).click();
  await expect.poll(() => listed(page)).toEqual(["LLDAP Directory", "Photos", "Admin Panel"]);
  await ready(page, testInfo);
  await page.getByRole("button", { name: "Move LLDAP Directory down" }).click();
  await expect.poll(() => listed(page)).toEqual(["Photos", "LLDAP Directory", "Admin Panel"]);
  // Stored, not just shown.
  await visit(page, testInfo, "/settings/applications");
  expect(await listed(page)).toEqual(["Photos", "LLDAP Directory", "Admin Panel"]);
});

/** The start page's tiles: name and link of each, in order. */
async function tiles(page: Page) {
  return page
    .locator(`${ids.appTiles} a.app-tile`)
    .evaluateAll((as) => as.map((a) => `${a.textContent?.trim()} ${a.getAttribute("href")}`));
}

test("the start page shows each user the applications they may open, in order", async ({ browser, server }, testInfo) => {
  await visit(admin.page, testInfo, "/");
  expect(await tiles(admin.page)).toEqual([
    "LLDAP Directory https://lldap.portcullis.test/",
    "Admin Panel https://admin.portcullis.test/",
  ]);
  await expect(admin.page.locator(`${ids.appTiles} [data-app="LLDAP Directory"] img`)).toHaveAttribute("src", LLDAP);
  await shot(admin.page, testInfo, "portal-admin");

  const ann = await signedIn(browser, server, testInfo, "ann");
  expect(await tiles(ann.page)).toEqual([
    "Photos https://photos.portcullis.test/",
    "LLDAP Directory https://lldap.portcullis.test/",
  ]);
  if (jsEnabled(testInfo)) {
    // The uploaded icon is served by Portcullis at a URL of its own, and loads.
    const icon = ann.page.locator(`${ids.appTiles} [data-app="Photos"] img`);
    await expect(icon).toHaveAttribute("src", /^\/api\/v1\/apps\/[^/]+\/icon\?v=\d+$/);
    await expect.poll(() => icon.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBeGreaterThan(0);
  }
  await shot(ann.page, testInfo, "portal-user");
  await ann.context.close();

  // Ben is in the group family, assigned in Portcullis.
  const ben = await signedIn(browser, server, testInfo, "ben");
  expect(await tiles(ben.page)).toEqual([
    "Photos https://photos.portcullis.test/",
    "LLDAP Directory https://lldap.portcullis.test/",
  ]);
  await ben.context.close();

  const carl = await signedIn(browser, server, testInfo, "carl");
  expect(await tiles(carl.page)).toEqual(["LLDAP Directory https://lldap.portcullis.test/"]);
  await carl.context.close();
});

test("assign a group on the users page: the user then sees the applications for it", async ({ browser, server }, testInfo) => {
  const { page } = admin;
  await visit(page, testInfo, "/settings/users");
  const section = page.locator(ids.userGroups);
  await expect(section.locator('[data-user="ben"][data-group="family"]')).toContainText("ben: family");
  // Groups travel comma-separated: a comma is refused, beside the field.
  await section.getByLabel("User", { exact: true }).selectOption({ label: "carl" });
  await section.getByLabel("Group", { exact: true }).fill("family,admins");
  await section.getByRole("button", { name: "Assign group" }).click();
  await expect(page.locator("#field-group-error")).toContainText("cannot contain commas");
  await ready(page, testInfo);
  await expect(section.locator('[data-user="carl"]')).toHaveCount(0);

  await section.getByLabel("User", { exact: true }).selectOption({ label: "carl" });
  await section.getByLabel("Group", { exact: true }).fill("family");
  await section.getByRole("button", { name: "Assign group" }).click();
  await expect(section.locator('[data-user="carl"][data-group="family"]')).toBeVisible();
  await ready(page, testInfo);
  const carl = await signedIn(browser, server, testInfo, "carl");
  expect(await tiles(carl.page)).toEqual([
    "Photos https://photos.portcullis.test/",
    "LLDAP Directory https://lldap.portcullis.test/",
  ]);

  await section.getByRole("button", { name: "Remove carl from family" }).click();
  await expect(section.locator('[data-user="carl"]')).toHaveCount(0);
  await visit(carl.page, testInfo, "/");
  expect(await tiles(carl.page)).toEqual(["LLDAP Directory https://lldap.portcullis.test/"]);
  await carl.context.close();
});

test("an application as an OpenID Connect client: its secret shown once, a new one on demand", async ({}, testInfo) => {
  const { page } = admin;
  await openEditor(page, testInfo, "Photos");
  await expect(page.locator(ids.appEditor)).toContainText("/.well-known/openid-configuration");
  await page.getByLabel("Sign in with Portcullis (OpenID Connect)").check();
  await fillByLabel(page, { "Redirect URIs": "https://photos.portcullis.test/auth/callback" });
  await leaveField(page, testInfo);
  await page.locator(ids.saveApp).click();
  await expect(page).toHaveURL(/\/settings\/applications$/);
  await ready(page, testInfo);
  const notice = page.locator(`.alert.ok[role="status"]`);
  await expect(notice).toContainText("The client secret of Photos is pc_cs_");
  const first = (await notice.textContent())!.match(/pc_cs_[A-Za-z0-9_-]{43}/)![0];
  const card = page.locator(`${ids.appList} [data-app="Photos"]`);
  await expect(card.locator("code.client-id")).toHaveText(/^photos-[a-z0-9]{6}$/);
  // Shown once.
  await visit(page, testInfo, "/settings/applications");
  await expect(page.getByText("The client secret of Photos")).toHaveCount(0);

  await card.getByText("New secret", { exact: true }).click();
  await expect(card.getByRole("alertdialog")).toContainText("The old one stops working at once");
  await card.getByRole("button", { name: "New secret for Photos" }).click();
  await expect(notice).toContainText("The client secret of Photos is pc_cs_");
  const second = (await notice.textContent())!.match(/pc_cs_[A-Za-z0-9_-]{43}/)![0];
  expect(second).not.toEqual(first);

  // The editor starts from the stored client and never shows the secret.
  await page.getByRole("link", { name: "Edit Photos" }).click();
  await ready(page, testInfo);
  await expect(page.getByLabel("Sign in with Portcullis (OpenID Connect)")).toBeChecked();
  await expect(page.getByLabel("Redirect URIs", { exact: true })).toHaveValue("https://photos.portcullis.test/auth/callback");
  await expect(page.getByLabel("Client secret, HTTP Basic (client_secret_basic)")).toBeChecked();
  await expect(page.locator(ids.appEditor)).not.toContainText(second);
});

test("delete an application, after confirming", async ({}, testInfo) => {
  const { page } = admin;
  await visit(page, testInfo, "/settings/applications");
  const card = page.locator(`${ids.appList} [data-app="Admin Panel"]`);
  await card.getByText("Delete", { exact: true }).click();
  await expect(card.getByRole("alertdialog")).toContainText("Delete Admin Panel?");
  await card.getByRole("button", { name: "Delete Admin Panel" }).click();
  await expect.poll(() => listed(page)).toEqual(["Photos", "LLDAP Directory"]);
  await visit(page, testInfo, "/");
  expect(await tiles(page)).toEqual(["LLDAP Directory https://lldap.portcullis.test/"]);
});
