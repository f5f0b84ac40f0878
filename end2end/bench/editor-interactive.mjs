// Benchmark #14: how long a person waits for the provider editor to answer, beside how long
// the sign-in page takes to load, in Debian Chromium (headless), in one run.
//
//   node editor-interactive.mjs <base URL> <session cookie, name=value> <rounds>
//
// Every sample is a first load: a new browser context, so nothing is cached. Alternating,
// `rounds` times each:
// - the sign-in page: from navigation start to its load event;
// - the provider editor (/settings/users/oidc/new, signed in as an administrator): from
//   navigation start until the slug follows a typed name, which needs the editors' script
//   live (its bundle fetched, compiled and run). A name is typed again until the slug follows,
//   so the time is when a person typing would first have seen it work.
// Both are read from the page's own clock (performance.now(), zero at navigation start).
// Prints JSON: { login_ms, editor_ms, samples } (medians).
import { chromium } from "@playwright/test";

const [base, cookie, roundsArg] = process.argv.slice(2);
const rounds = Number(roundsArg || 15);
const [cookieName, ...rest] = cookie.split("=");

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium-headless-shell",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--no-first-run", "--disable-quic"],
});

async function fresh() {
  const context = await browser.newContext({ baseURL: base });
  await context.addCookies([{ name: cookieName, value: rest.join("="), url: base }]);
  return [context, await context.newPage()];
}

async function login() {
  const [context, page] = await fresh();
  await page.goto("/login", { waitUntil: "load" });
  const ms = await page.evaluate(() => performance.getEntriesByType("navigation")[0].loadEventEnd);
  await context.close();
  return ms;
}

async function editor(round) {
  const [context, page] = await fresh();
  await page.goto("/settings/users/oidc/new", { waitUntil: "commit" });
  const name = page.getByLabel("Provider Name");
  const slug = page.getByLabel("Provider Slug");
  await name.waitFor();
  let ms;
  for (let attempt = 0; ms === undefined; attempt++) {
    if (attempt > 5000) throw new Error("the slug never followed the name");
    const typed = `Bench ${round} ${attempt}`;
    await name.fill(typed);
    if ((await slug.inputValue()) === `bench-${round}-${attempt}`) {
      ms = await page.evaluate(() => performance.now());
    }
  }
  await context.close();
  return ms;
}

const median = (v) => {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

// One of each first, unmeasured: Chromium's own start-up is not the page's.
await login();
await editor(0);
const logins = [];
const editors = [];
for (let round = 1; round <= rounds; round++) {
  logins.push(await login());
  editors.push(await editor(round));
}
await browser.close();
console.log(JSON.stringify({ login_ms: median(logins), editor_ms: median(editors), samples: rounds }));
