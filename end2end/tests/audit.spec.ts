import { BrowserContext, expect, Page, test, TestInfo } from "./fixtures";
import { addUser, expectAccessible, goto, ids, login, pagesContext } from "./helpers";

// Settings → Audit log: the newest events a page at a time (Older, Newer), filtered by user,
// event and date through a plain GET form, the filters' errors, and the export as JSON
// Lines. With JavaScript on and off (the page is server-rendered HTML either way; "off" means
// the app's own scripts never load), axe-checked at each step. What each action records:
// server/tests/audit.rs.
test.use({ portcullis: {} });
test.describe.configure({ mode: "serial", timeout: 120_000 });

let context: BrowserContext;
let page: Page;

const admin = (testInfo: TestInfo) => `audra-${testInfo.project.name}`;
const user = (testInfo: TestInfo) => `ulla-${testInfo.project.name}`;
/** More events than a page holds: groups assigned to the spec's user by the CLI. */
const GROUPS = 55;

test.beforeAll(async ({ browser, server }, testInfo) => {
  addUser(server, admin(testInfo), `${admin(testInfo)} password`, true);
  addUser(server, user(testInfo), `${user(testInfo)} password`);
  for (let i = 0; i < GROUPS; i++) {
    server.cli(["group", "assign", "--user", user(testInfo), "--group", `g${i}`]);
  }
  context = await pagesContext(browser, server, testInfo);
  page = await context.newPage();
});

test.afterAll(async () => {
  await context?.close();
});

const rows = () => page.locator(`${ids.auditEvents} tbody tr`);

test("newest first, a page at a time", async ({}, testInfo) => {
  await login(page, testInfo, admin(testInfo), `${admin(testInfo)} password`);
  await expect(page.locator(ids.whoami)).toContainText(admin(testInfo));
  await goto(page, testInfo, "/settings/audit");
  await expect(page.getByRole("heading", { name: "Audit log" })).toBeVisible();
  // The administrator's own sign-in is the newest event.
  await expect(rows().first()).toHaveAttribute("data-event", "sign_in");
  await expect(rows().first()).toContainText(admin(testInfo));
  await expect(rows().first().locator("time")).toHaveAttribute("datetime", /^\d{4}-\d\d-\d\dT/);
  await expect(rows()).toHaveCount(50);
  await expect(page.locator(ids.auditNewer)).toHaveCount(0);
  await expectAccessible(page, "audit log");

  const newest = await rows().nth(49).textContent();
  await page.locator(ids.auditOlder).click();
  await expect(page).toHaveURL(/before=/);
  await expect(rows().first()).not.toHaveText(newest ?? "");
  await expect(page.locator(ids.auditNewer)).toBeVisible();
  await page.locator(ids.auditNewer).click();
  await expect(page).toHaveURL(/after=/);
  await expect(rows().nth(49)).toHaveText(newest ?? "");
});

test("filtered by user, event and date; the export", async ({}, testInfo) => {
  await goto(page, testInfo, "/settings/audit");
  const form = page.locator(ids.auditFilter);
  await form.getByLabel("User").fill(user(testInfo));
  await form.getByLabel("Event").selectOption("group_assigned");
  const today = new Date().toISOString().slice(0, 10);
  await form.getByLabel("From").fill(today);
  await form.getByLabel("To").fill(today);
  await form.getByRole("button", { name: "Filter" }).click();
  await expect(page).toHaveURL(/event=group_assigned/);
  await expect(rows()).toHaveCount(50);
  for (const kind of await rows().evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-event")))) {
    expect(kind).toBe("group_assigned");
  }
  await expect(rows().first()).toContainText(user(testInfo));
  await expect(rows().first()).toContainText(`group: g${GROUPS - 1}`);
  await expect(form.getByLabel("User")).toHaveValue(user(testInfo));
  await expectAccessible(page, "audit log, filtered");

  // The export: the same filters, every page of them, one JSON object a line.
  const href = await page.locator(ids.auditExport).getAttribute("href");
  expect(href).toContain("event=group_assigned");
  const res = await page.request.get(href ?? "");
  expect(res.status()).toBe(200);
  const lines = (await res.text()).trim().split("\n").map((l) => JSON.parse(l));
  expect(lines).toHaveLength(GROUPS);
  expect(lines.every((e) => e.event === "group_assigned" && e.target === user(testInfo))).toBe(true);

  // Nothing from tomorrow on; a date that is not one says so at its field.
  const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
  await goto(page, testInfo, `/settings/audit?since=${tomorrow}`);
  await expect(page.getByText("No events match.")).toBeVisible();
  await goto(page, testInfo, "/settings/audit?since=yesterday");
  await expect(page.locator("#field-since-error")).toContainText("Enter a date as YYYY-MM-DD.");
  await expectAccessible(page, "audit log, a filter's error");
});
