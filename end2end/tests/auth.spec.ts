import { expect, test } from "./fixtures";
import { addUser, goto, ids, login, ready, shot } from "./helpers";

// A fresh installation of its own, from its first-run setup on: these run in order.
test.use({ portcullis: {} });
test.describe.configure({ mode: "serial" });

test("first-run setup creates the administrator", async ({ page }, testInfo) => {
  await page.goto("/");
  await expect(page).toHaveURL(/\/setup$/);
  await ready(page, testInfo);
  await expect(page.locator(ids.setupForm)).toContainText("Create the administrator account");
  await shot(page, testInfo, "setup");

  // Bad input: the server names the field and nothing is created.
  await page.getByLabel("Username").fill("root");
  await page.getByLabel("Email").fill("root@example.com");
  await page.getByLabel("Password").fill("short");
  await page.getByRole("button", { name: "Create administrator" }).click();
  await expect(page.locator(ids.setupError)).toContainText("Please correct the highlighted fields");
  await expect(page.locator("#field-password-error")).toContainText("at least 8 characters");
  await ready(page, testInfo);

  await page.getByLabel("Username").fill("root");
  await page.getByLabel("Email").fill("root@example.com");
  await page.getByLabel("Display name").fill("Root Admin");
  await page.getByLabel("Password").fill("root password");
  await page.getByRole("button", { name: "Create administrator" }).click();
  await expect(page.locator(ids.whoami)).toContainText("root");
  await expect(page.locator(ids.whoami)).toContainText("administrator");
  await expect(page).toHaveURL(/\/$/);
  await shot(page, testInfo, "home");

  // Setup is closed now.
  await goto(page, testInfo, "/setup");
  await expect(page.locator(ids.setupForm)).toContainText("Setup is complete");
});

test("sign out, a wrong password, then sign in", async ({ page }, testInfo) => {
  await login(page, testInfo, "root", "root password");
  await expect(page.locator(ids.whoami)).toContainText("root");
  await page.locator(ids.logout).click();
  await expect(page).toHaveURL(/\/login$/);
  await ready(page, testInfo);

  await page.getByLabel("Username or email").fill("root");
  await page.getByLabel("Password").fill("not the password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.locator(ids.loginError)).toHaveText("Wrong username, email or password.");
  await expect(page).toHaveURL(/\/login$/);
  await ready(page, testInfo);
  await shot(page, testInfo, "login-error");

  await page.getByLabel("Username or email").fill("root@example.com");
  await page.getByLabel("Password").fill("root password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.locator(ids.whoami)).toContainText("root");
});

test("signed-out visitors are sent to login and back", async ({ page }, testInfo) => {
  await page.goto("/profile/settings/linked-accounts");
  await expect(page).toHaveURL(/\/login\?next=%2Fprofile%2Fsettings%2Flinked-accounts$/);
  await ready(page, testInfo);
  await shot(page, testInfo, "login");
  await page.getByLabel("Username or email").fill("root");
  await page.getByLabel("Password").fill("root password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/profile\/settings\/linked-accounts$/);
  await expect(page.locator(ids.linkedAccountsTab)).toHaveAttribute("aria-current", "page");
  await shot(page, testInfo, "linked-accounts");
});

test("the admin sees users and login methods", async ({ page, server }, testInfo) => {
  addUser(server, "bob", "bob password");
  await login(page, testInfo, "root", "root password");
  await expect(page.locator(ids.whoami)).toBeVisible();
  await goto(page, testInfo, "/settings/users");
  await expect(page.locator(ids.loginMethods)).toContainText("Login Methods");
  await expect(page.locator(ids.userList)).toContainText("bob");
  await expect(page.locator(ids.userList)).toContainText("root");
  await shot(page, testInfo, "settings-users");
});

test("a non-admin is refused from /settings/users", async ({ page }, testInfo) => {
  await login(page, testInfo, "bob", "bob password");
  await expect(page.locator(ids.whoami)).toContainText("bob");
  await expect(page.getByRole("link", { name: "Settings", exact: true })).toHaveCount(0);
  const res = await page.goto("/settings/users");
  expect(res?.status()).toBe(403);
  await ready(page, testInfo);
  await expect(page.locator(ids.forbidden)).toContainText("Administrators only");
  await expect(page.locator(ids.userList)).toHaveCount(0);
  await shot(page, testInfo, "forbidden");
});
