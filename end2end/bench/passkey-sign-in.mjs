// Benchmark #11: a passkey sign-in's server time beside a password sign-in's, in Debian
// Chromium (headless) with its virtual authenticator (the DevTools Protocol's WebAuthn
// domain), against a running Portcullis started with --server-timing.
//
//   node passkey-sign-in.mjs <base URL, http://localhost:<port>> <username> <password> <rounds>
//
// The account signs in with its password and adds a passkey on Profile → Security (as a
// person would, through public/pkg/passkey.js). Then, alternating, `rounds` rounds of 20
// password sign-ins (the form's server function) and 20 passkey sign-ins (start, the
// authenticator's assertion, finish), each timed by the server's own Server-Timing "app"
// (a passkey's is its start's plus its finish's: the authenticator's time is the browser's).
// Prints JSON: { password_ms, passkey_ms, samples } (medians).
import { chromium } from "@playwright/test";

const [base, username, password, roundsArg] = process.argv.slice(2);
const rounds = Number(roundsArg || 5);
const PER_ROUND = 20;

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium-headless-shell",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--no-first-run", "--disable-quic"],
});
const context = await browser.newContext({ baseURL: base });
const page = await context.newPage();
const cdp = await context.newCDPSession(page);
await cdp.send("WebAuthn.enable");
await cdp.send("WebAuthn.addVirtualAuthenticator", {
  options: { protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true, isUserVerified: true },
});
// No autofill request racing the button's (the sign-in page offers one as it loads).
await page.addInitScript(() => {
  PublicKeyCredential.isConditionalMediationAvailable = async () => false;
});

await page.goto("/login");
await page.getByLabel("Username or email").fill(username);
await page.getByLabel("Password").fill(password);
await page.getByRole("button", { name: "Sign in", exact: true }).click();
await page.waitForURL((u) => u.pathname === "/");
await page.goto("/profile/settings/security");
await page.getByLabel("Name of the new passkey").fill("Bench");
await page.getByRole("button", { name: "Add a passkey" }).click();
await page.getByText("Passkey “Bench” added").waitFor();

// In the page: one sign-in of each kind, its server time in milliseconds.
await page.evaluate(() => {
  const app = (res) => {
    const m = /app;dur=([0-9.]+)/.exec(res.headers.get("server-timing") ?? "");
    if (!res.ok || !m) throw new Error(`${res.url}: ${res.status}, Server-Timing ${res.headers.get("server-timing")}`);
    return Number(m[1]);
  };
  const json = { "content-type": "application/json", accept: "application/json" };
  window.passwordSignIn = async (identifier, password) => {
    const res = await fetch("/api/auth/login", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
      body: new URLSearchParams({ identifier, password }),
    });
    return app(res);
  };
  window.passkeySignIn = async () => {
    const start = await fetch("/api/v1/passkeys/sign-in/start", { method: "POST", headers: json, body: "{}" });
    const started = await start.clone().json();
    const credential = await navigator.credentials.get({
      publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(started.options.publicKey),
    });
    const finish = await fetch("/api/v1/passkeys/sign-in/finish", {
      method: "POST",
      headers: json,
      body: JSON.stringify({ challenge: started.challenge, credential: credential.toJSON() }),
    });
    return app(start) + app(finish);
  };
});

const median = (v) => {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
const pw = [];
const pk = [];
// Warm-up: the first of each kind loads what later ones find cached.
await page.evaluate(([u, p]) => window.passwordSignIn(u, p), [username, password]);
await page.evaluate(() => window.passkeySignIn());
for (let r = 0; r < rounds; r++) {
  for (let i = 0; i < PER_ROUND; i++) pw.push(await page.evaluate(([u, p]) => window.passwordSignIn(u, p), [username, password]));
  for (let i = 0; i < PER_ROUND; i++) pk.push(await page.evaluate(() => window.passkeySignIn()));
}
console.log(JSON.stringify({ password_ms: median(pw), passkey_ms: median(pk), samples: pw.length }));
await browser.close();
