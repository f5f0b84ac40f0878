import { expect, test } from "./fixtures";
import { addUser, goto, ids, jsEnabled, login, shot } from "./helpers";

// Times people read (Profile → Sessions): in a <time datetime> element, exact UTC minutes
// without JavaScript; with it, relative words and the full moment in the viewer's time zone.
// The browser says it is in Chatham (UTC+13:45 in December, UTC+12:45 otherwise): a zone no
// server default or rounding error lands on by accident.
test.use({ portcullis: {}, timezoneId: "Pacific/Chatham", locale: "en-GB" });

const USER = "momo";
const PASSWORD = "momo password";

test.beforeAll(({ server }) => addUser(server, USER, PASSWORD));

test("sign-in times are shown in the viewer's time zone and relative", async ({ page }, testInfo) => {
  const before = Date.now();
  await login(page, testInfo, USER, PASSWORD);
  await goto(page, testInfo, "/profile/settings/sessions");
  const signedIn = page.locator(ids.sessions).locator("li[data-current] time[data-moment]").first();
  await expect(signedIn).toHaveAttribute("datetime", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  const at = Date.parse((await signedIn.getAttribute("datetime"))!);
  expect(Math.abs(at - before), "the moment is the sign-in's").toBeLessThan(10 * 60_000);

  if (jsEnabled(testInfo)) {
    await expect(signedIn).toHaveText(/^(now|\d+ seconds? ago|1 minute ago)$/);
    await expect(signedIn).toHaveAttribute("title", /GMT\+1[23]:45/);
    // The title is the same moment, written in Chatham's time.
    const local = new Intl.DateTimeFormat("en-GB", {
      timeZone: "Pacific/Chatham",
      hour: "2-digit",
      minute: "2-digit",
    }).format(at);
    await expect(signedIn).toHaveAttribute("title", new RegExp(local));
  } else {
    await expect(signedIn).toHaveText(/^\d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
    await expect(signedIn).not.toHaveAttribute("title", /./);
  }
  await shot(page, testInfo, "moments");
});
