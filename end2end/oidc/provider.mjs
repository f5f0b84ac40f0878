// A real OpenID Provider for tests and the demo: npm `oidc-provider` (OpenID Certified),
// in memory, on loopback. Nothing here is Portcullis code.
//
// Environment:
//   OIDC_PORT            port to listen on (required)
//   OIDC_REDIRECT_URIS   comma-separated redirect URIs the clients may use (required)
// Clients: portcullis-basic / basic-secret (client_secret_basic),
//          portcullis-post / post-secret (client_secret_post).
// Users (any password): see USERS below. Login through the dev interaction form:
//   POST /interaction/:uid  prompt=login&login=<user>&password=<any>
// Grants are given automatically (no consent screen).
import Provider from "oidc-provider";

const port = Number(process.env.OIDC_PORT);
if (!port) throw new Error("set OIDC_PORT");
const redirectUris = (process.env.OIDC_REDIRECT_URIS || "").split(",").filter(Boolean);
if (!redirectUris.length) throw new Error("set OIDC_REDIRECT_URIS");
const issuer = process.env.OIDC_ISSUER || `http://127.0.0.1:${port}`;

export const USERS = {
  alice: { email: "alice@idp.example", email_verified: true, name: "Alice Idp", preferred_username: "alice", portcullis_user: true,
    groups: ["media-users", "family"], realm_access: { roles: ["portcullis", "offline_access"] } },
  bob: { email: "bob@idp.example", email_verified: true, name: "Bob Idp", preferred_username: "bob", portcullis_user: false,
    groups: ["family"], realm_access: { roles: ["offline_access"] } },
  carol: { email: "carol@idp.example", email_verified: true, name: "Carol Idp", preferred_username: "carol" },
  dave: { email: "dave@idp.example", email_verified: true, name: "Dave Idp", preferred_username: "dave", portcullis_user: "true" },
  erin: { email: "taken@example.com", email_verified: true, name: "Erin Idp", preferred_username: "erin", portcullis_user: true },
  root: { email: "root-idp@idp.example", email_verified: true, name: "Root Idp", preferred_username: "root", portcullis_user: true },
};

const configuration = {
  clients: [
    {
      client_id: "portcullis-basic",
      client_secret: "basic-secret",
      redirect_uris: redirectUris,
      token_endpoint_auth_method: "client_secret_basic",
      grant_types: ["authorization_code"],
      response_types: ["code"],
    },
    {
      client_id: "portcullis-post",
      client_secret: "post-secret",
      redirect_uris: redirectUris,
      token_endpoint_auth_method: "client_secret_post",
      grant_types: ["authorization_code"],
      response_types: ["code"],
    },
  ],
  claims: {
    openid: ["sub"],
    email: ["email", "email_verified"],
    profile: ["name", "preferred_username"],
    portcullis: ["portcullis_user", "groups", "realm_access"],
  },
  scopes: ["openid", "email", "profile", "portcullis"],
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: true } },
  pkce: { required: () => true },
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
const server = provider.listen(port, "127.0.0.1", () => {
  console.log(`oidc-provider listening on ${issuer}`);
});
const stop = () => server.close(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
