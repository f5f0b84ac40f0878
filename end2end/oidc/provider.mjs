// A real OpenID Provider for tests and the demo: npm `oidc-provider` (OpenID Certified),
// in memory, on loopback. Nothing here is Portcullis code.
//
// Environment:
//   OIDC_PORT            port to listen on (required)
//   OIDC_REDIRECT_URIS   comma-separated redirect URIs the two clients below may use
//   OIDC_OPEN_REGISTRATION=1  clients register themselves (Dynamic Client Registration,
//                        RFC 7591, POST /reg, no initial access token): each gets a client of
//                        its own for exactly the redirect URIs it names. The Playwright specs do
//                        (their servers' ports are known only at run time); one of the two is
//                        required
//   OIDC_TLS_CERT, OIDC_TLS_KEY  PEM files: serve https (issuer https://127.0.0.1:<port>),
//                        e.g. with a certificate from a private CA made by a test
// Clients: portcullis-basic / basic-secret (client_secret_basic),
//          portcullis-post / post-secret (client_secret_post).
// Sign-out: RP-Initiated Logout (end_session_endpoint; each redirect URI <u> allows the
// post-logout redirect URI <u>/signed-out) and Back-Channel Logout (logout tokens with sid
// are posted to OIDC_BACKCHANNEL_URI when set). Confirm a sign-out with
//   POST /session/end/confirm  xsrf=<from the form>&logout=yes
// Users (any password): see USERS below. Login through the dev interaction form:
//   POST /interaction/:uid  prompt=login&login=<user>&password=<any>
// Grants are given automatically (no consent screen).
// Tests read what the last authorization request carried, as the provider parsed its query:
//   GET /test/last-authorization  (JSON; a repeated parameter shows as an array)
import { readFileSync } from "node:fs";
import https from "node:https";
import Provider from "oidc-provider";

const port = Number(process.env.OIDC_PORT);
if (!port) throw new Error("set OIDC_PORT");
const redirectUris = (process.env.OIDC_REDIRECT_URIS || "").split(",").filter(Boolean);
const openRegistration = process.env.OIDC_OPEN_REGISTRATION === "1";
if (!redirectUris.length && !openRegistration) throw new Error("set OIDC_REDIRECT_URIS or OIDC_OPEN_REGISTRATION=1");
const tls = process.env.OIDC_TLS_CERT && process.env.OIDC_TLS_KEY
  ? { cert: readFileSync(process.env.OIDC_TLS_CERT), key: readFileSync(process.env.OIDC_TLS_KEY) }
  : null;
const issuer = process.env.OIDC_ISSUER || `${tls ? "https" : "http"}://127.0.0.1:${port}`;
const postLogoutUris = redirectUris.map((u) => `${u.replace(/\/$/, "")}/signed-out`);
const backchannel = process.env.OIDC_BACKCHANNEL_URI
  ? { backchannel_logout_uri: process.env.OIDC_BACKCHANNEL_URI, backchannel_logout_session_required: true }
  : {};

export const USERS = {
  alice: { email: "alice@idp.example", email_verified: true, name: "Alice Idp", preferred_username: "alice", portcullis_user: true,
    groups: ["media-users", "family"], realm_access: { roles: ["portcullis", "offline_access"] } },
  bob: { email: "bob@idp.example", email_verified: true, name: "Bob Idp", preferred_username: "bob", portcullis_user: false,
    groups: ["family"], realm_access: { roles: ["offline_access"] } },
  carol: { email: "carol@idp.example", email_verified: true, name: "Carol Idp", preferred_username: "carol" },
  dave: { email: "dave@idp.example", email_verified: true, name: "Dave Idp", preferred_username: "dave", portcullis_user: "true" },
  erin: { email: "taken@example.com", email_verified: true, name: "Erin Idp", preferred_username: "erin", portcullis_user: true },
  frank: { email: "frank@idp.example", email_verified: false, name: "Frank Idp", preferred_username: "frank" },
  root: { email: "root-idp@idp.example", email_verified: true, name: "Root Idp", preferred_username: "root", portcullis_user: true },
};

const configuration = {
  clients: redirectUris.length ? [
    {
      client_id: "portcullis-basic",
      client_secret: "basic-secret",
      redirect_uris: redirectUris,
      token_endpoint_auth_method: "client_secret_basic",
      grant_types: ["authorization_code"],
      response_types: ["code"],
      post_logout_redirect_uris: postLogoutUris,
      ...backchannel,
    },
    {
      client_id: "portcullis-post",
      client_secret: "post-secret",
      redirect_uris: redirectUris,
      token_endpoint_auth_method: "client_secret_post",
      grant_types: ["authorization_code"],
      response_types: ["code"],
      post_logout_redirect_uris: postLogoutUris,
    },
  ] : [],
  claims: {
    openid: ["sub"],
    email: ["email", "email_verified"],
    profile: ["name", "preferred_username"],
    portcullis: ["portcullis_user", "groups", "realm_access"],
  },
  scopes: ["openid", "email", "profile", "portcullis"],
  conformIdTokenClaims: false,
  features: {
    devInteractions: { enabled: true },
    rpInitiatedLogout: { enabled: true },
    backchannelLogout: { enabled: true },
    registration: { enabled: openRegistration },
  },
  pkce: { required: () => true },
  // Back-channel logout tokens go to Portcullis on loopback, which the provider's SSRF
  // guard (its own dispatcher) refuses; in tests that is exactly where they must go.
  fetch: (url, options) => {
    delete options.dispatcher;
    return globalThis.fetch(url, options);
  },
  cookies: { keys: ["portcullis-test-only"] },
  async findAccount(ctx, id) {
    if (!USERS[id]) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...USERS[id] }; } };
  },
  async loadExistingGrant(ctx) {
    // Grant whatever the client asks for: tests and the demo have no consent screen.
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope(ctx.oidc.params.scope || "openid");
    grant.addOIDCClaims(["sub", "email", "email_verified", "name", "preferred_username", "portcullis_user", "groups", "realm_access"]);
    await grant.save();
    return grant;
  },
};

const provider = new Provider(issuer, configuration);
provider.proxy = false;
let lastAuthorization = {};
provider.use(async (ctx, next) => {
  if (ctx.method === "GET" && ctx.path === "/test/last-authorization") {
    ctx.body = lastAuthorization;
    return;
  }
  if (ctx.method === "GET" && ctx.path === "/auth") lastAuthorization = { ...ctx.query };
  await next();
});
const listening = () => console.log(`oidc-provider listening on ${issuer}`);
const server = tls
  ? https.createServer(tls, provider.callback()).listen(port, "127.0.0.1", listening)
  : provider.listen(port, "127.0.0.1", listening);
const stop = () => server.close(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
