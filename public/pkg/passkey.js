// Passkeys in the browser (issue 22): WebAuthn's navigator.credentials, which only a script
// can reach. Loaded with the page's CSP nonce on the sign-in page and Profile → Security
// (app/src/lib.rs); no WebAssembly. The server's routes (server/src/passkeys.rs) run the
// ceremonies: a start gives the options and a ceremony id, a finish takes the browser's
// answer. What needs this script is hidden in the HTML and shown here; without JavaScript
// the pages say passkeys need it (<noscript>).
//
// 1. Sign-in page: "Sign in with a passkey" ([data-passkey-sign-in]) asks the browser for any
//    passkey it holds for this site (discoverable credentials: no username first), and the
//    username field (autocomplete="username webauthn") offers them in its autofill
//    (conditional mediation), where the browser supports it.
// 2. Profile → Security: the "Add a passkey" form ([data-passkey-register]); on an
//    enrolment link's page the same form carries the link's token (data-token), and the
//    registration goes through the link instead of a signed-in session.
// 3. First-run setup: "Create administrator with a passkey" ([data-passkey-setup]) makes the
//    administrator from the setup form's fields, without a password, and goes on to its
//    enrolment link (2.) to add the passkey.

const b64 = {
  decode(s) {
    const bin = atob(s.replace(/-/g, "+").replace(/_/g, "/"));
    return Uint8Array.from(bin, (c) => c.charCodeAt(0)).buffer;
  },
};

// The server's options as WebAuthn JSON (base64url for bytes; absent values as null): the
// byte fields as ArrayBuffers, nulls left out.
function options(json) {
  const clean = (v) => {
    if (Array.isArray(v)) return v.map(clean);
    if (v && typeof v === "object") {
      const out = {};
      for (const [k, x] of Object.entries(v)) if (x !== null) out[k] = clean(x);
      return out;
    }
    return v;
  };
  const o = clean(json.publicKey);
  o.challenge = b64.decode(o.challenge);
  if (o.user) o.user.id = b64.decode(o.user.id);
  for (const list of [o.excludeCredentials, o.allowCredentials]) {
    for (const c of list ?? []) c.id = b64.decode(c.id);
  }
  return o;
}

async function post(path, body) {
  const res = await fetch(path, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify(body ?? {}),
    credentials: "same-origin",
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    throw new Error(data.fields?.[0]?.message ?? data.message ?? `The server answered ${res.status}.`);
  }
  return data;
}

function say(el, message) {
  if (!el) return;
  el.textContent = message;
  el.hidden = !message;
}

// A cancelled or timed-out prompt, or one a newer request replaced: nothing to report.
const quiet = (e) => e?.name === "AbortError" || e?.name === "NotAllowedError";

// 1. Sign in.
const signIn = document.querySelector("#passkey-sign-in[data-passkey-sign-in]");
if (signIn && window.PublicKeyCredential) {
  for (const el of document.querySelectorAll("[data-passkey-sign-in]")) el.hidden = false;
  const error = signIn.querySelector("#passkey-error");
  const next = signIn.dataset.next || null;
  let pending = null;

  async function run(mediation) {
    pending?.abort();
    const abort = new AbortController();
    pending = abort;
    const start = await post("/api/v1/passkeys/sign-in/start");
    const credential = await navigator.credentials.get({
      publicKey: options(start.options),
      mediation,
      signal: abort.signal,
    });
    say(error, "");
    const done = await post("/api/v1/passkeys/sign-in/finish", {
      challenge: start.challenge,
      credential: credential.toJSON(),
      next,
    });
    window.location.assign(done.redirect);
  }

  signIn.querySelector("button").addEventListener("click", () => {
    run("optional").catch((e) => {
      if (!quiet(e)) say(error, e.message);
      else say(error, "No passkey was chosen. Try again, or sign in another way.");
    });
  });

  // Autofill: offered while the page is open, until a passkey is chosen or the button starts
  // a sign-in of its own.
  // Only where a field offers it (the sign-in page's username): elsewhere (the step-up) a
  // conditional request would have nowhere to show.
  const field = document.querySelector('input[autocomplete~="webauthn"]');
  PublicKeyCredential.isConditionalMediationAvailable?.().then((yes) => {
    if (yes && field && !pending) run("conditional").catch((e) => quiet(e) || say(error, e.message));
  });
}

// 2. Add a passkey.
const register = document.querySelector("form[data-passkey-register]");
if (register && window.PublicKeyCredential) {
  register.hidden = false;
  const error = register.querySelector("#passkey-error");
  const button = register.querySelector("button[type=submit]");
  register.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const name = new FormData(register).get("name");
    const token = register.dataset.token;
    const [route, extra] = token ? ["enrol", { token }] : ["register", {}];
    button.disabled = true;
    try {
      say(error, "");
      const start = await post(`/api/v1/passkeys/${route}/start`, { name, ...extra });
      const credential = await navigator.credentials.create({ publicKey: options(start.options) });
      const done = await post(`/api/v1/passkeys/${route}/finish`, {
        challenge: start.challenge,
        name,
        credential: credential.toJSON(),
        ...extra,
      });
      window.location.assign(done.redirect);
    } catch (e) {
      say(error, quiet(e) ? "No passkey was made (the prompt was closed or timed out). Try again." : e.message);
    } finally {
      button.disabled = false;
    }
  });
}

// 3. First-run setup.
const setup = document.querySelector("[data-passkey-setup]");
if (setup && window.PublicKeyCredential) {
  setup.hidden = false;
  const error = setup.querySelector("#passkey-error");
  const form = setup.parentElement.querySelector("form");
  setup.querySelector("button").addEventListener("click", async () => {
    const fields = new FormData(form);
    const value = (name) => String(fields.get(name) ?? "");
    try {
      say(error, "");
      const done = await post("/api/v1/passkeys/setup", {
        username: value("username"),
        email: value("email"),
        display_name: value("display_name"),
      });
      window.location.assign(done.redirect);
    } catch (e) {
      say(error, e.message);
    }
  });
}
