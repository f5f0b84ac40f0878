// A relying party nobody here wrote: npm `openid-client` (OpenID Certified), as a tiny web
// app the integration tests drive like a browser would (server/tests/common/rp.rs starts
// it). It discovers Portcullis, builds the authorization request (PKCE S256, state, nonce),
// exchanges the code and validates the ID token through the library, and reads userinfo.
//
// Environment: RP_ISSUER, RP_CLIENT_ID, RP_CLIENT_SECRET, RP_AUTH (basic | post | none),
// RP_SCOPE, RP_ID_TOKEN_ALG (RS256 | ES256), RP_PORT. The redirect URI is
// http://127.0.0.1:<RP_PORT>/callback.
//
// Routes: GET /health; GET /login[?prompt=...&max_age=...] (302 to Portcullis; the callback
// then checks auth_time against max_age); GET /callback (JSON:
// the tokens, the validated ID token claims, userinfo; 400 with the library's error);
// GET /userinfo (userinfo with the last access token, or the library's error); GET /refresh
// (the refresh grant with the last refresh token: the new tokens and the validated claims);
// GET /introspect?token=access|refresh and GET /revoke?token=access|refresh (RFC 7662 and
// RFC 7009 with the last token of that kind); GET /device/start (the device authorization
// grant, RFC 8628: initiateDeviceAuthorization, then pollDeviceAuthorizationGrant in the
// background; answers the user code and the verification URIs) and GET /device/result
// ({"done": false} while polling; then the tokens and the validated claims, or the error).
// Every answer is JSON; 400 carries the library's error.
import http from "node:http";
import * as client from "openid-client";

const env = (name, fallback) => process.env[name] ?? fallback;
const port = Number(env("RP_PORT"));
const redirectUri = `http://127.0.0.1:${port}/callback`;
const secret = env("RP_CLIENT_SECRET", "");
const auth = env("RP_AUTH", "basic");
const clientAuth =
  auth === "basic"
    ? client.ClientSecretBasic(secret)
    : auth === "post"
      ? client.ClientSecretPost(secret)
      : client.None();

const config = await client.discovery(
  new URL(env("RP_ISSUER")),
  env("RP_CLIENT_ID"),
  { id_token_signed_response_alg: env("RP_ID_TOKEN_ALG", "RS256") },
  clientAuth,
  { execute: [client.allowInsecureRequests] },
);

/** Requests begun, by state. */
const pending = new Map();
let last = null;
/** The device flow in progress: its outcome once the polling ends. */
let device = null;

const json = (res, status, body) => {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
};

const failure = (e) => ({
  error: e.error ?? e.code ?? "error",
  error_description: e.error_description ?? e.message,
  status: e.status,
});

http
  .createServer(async (req, res) => {
    const url = new URL(req.url, `http://127.0.0.1:${port}`);
    try {
      if (url.pathname === "/health") return json(res, 200, { ok: true });
      if (url.pathname === "/login") {
        const verifier = client.randomPKCECodeVerifier();
        const state = client.randomState();
        const nonce = client.randomNonce();
        const params = {
          redirect_uri: redirectUri,
          scope: env("RP_SCOPE", "openid profile email groups"),
          code_challenge: await client.calculatePKCECodeChallenge(verifier),
          code_challenge_method: "S256",
          state,
          nonce,
        };
        for (const [k, v] of url.searchParams) params[k] = v;
        // With max_age, the library checks the ID token's auth_time against it.
        const maxAge = params.max_age === undefined ? undefined : Number(params.max_age);
        pending.set(state, { verifier, state, nonce, maxAge });
        res.writeHead(302, { location: client.buildAuthorizationUrl(config, params).href });
        return res.end();
      }
      if (url.pathname === "/callback") {
        const p = pending.get(url.searchParams.get("state")) ?? {};
        pending.delete(p.state);
        const tokens = await client.authorizationCodeGrant(config, url, {
          pkceCodeVerifier: p.verifier,
          expectedState: p.state,
          expectedNonce: p.nonce,
          maxAge: p.maxAge,
          idTokenExpected: true,
        });
        const claims = tokens.claims();
        const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
        last = { tokens, claims };
        return json(res, 200, {
          access_token: tokens.access_token,
          refresh_token: tokens.refresh_token,
          id_token: tokens.id_token,
          token_type: tokens.token_type,
          expires_in: tokens.expiresIn(),
          scope: tokens.scope,
          claims,
          userinfo,
        });
      }
      if (url.pathname === "/device/start") {
        const response = await client.initiateDeviceAuthorization(config, {
          scope: env("RP_SCOPE", "openid profile email groups"),
        });
        const flow = { done: false };
        device = flow;
        client.pollDeviceAuthorizationGrant(config, response).then(
          (tokens) => {
            last = { tokens, claims: tokens.claims() };
            Object.assign(flow, {
              done: true,
              access_token: tokens.access_token,
              refresh_token: tokens.refresh_token,
              id_token: tokens.id_token,
              claims: tokens.claims(),
            });
          },
          (e) => Object.assign(flow, { done: true }, failure(e)),
        );
        return json(res, 200, {
          user_code: response.user_code,
          verification_uri: response.verification_uri,
          verification_uri_complete: response.verification_uri_complete,
          expires_in: response.expires_in,
          interval: response.interval,
        });
      }
      if (url.pathname === "/device/result") {
        return json(res, device ? 200 : 409, device ?? { error: "no device flow yet" });
      }
      if (url.pathname === "/userinfo") {
        if (!last) return json(res, 409, { error: "no tokens yet" });
        const userinfo = await client.fetchUserInfo(
          config,
          last.tokens.access_token,
          last.claims.sub,
        );
        return json(res, 200, userinfo);
      }
      if (["/refresh", "/introspect", "/revoke"].includes(url.pathname) && !last) {
        return json(res, 409, { error: "no tokens yet" });
      }
      if (url.pathname === "/refresh") {
        const tokens = await client.refreshTokenGrant(config, last.tokens.refresh_token);
        last = { tokens, claims: tokens.claims() ?? last.claims };
        return json(res, 200, {
          access_token: tokens.access_token,
          refresh_token: tokens.refresh_token,
          scope: tokens.scope,
          claims: tokens.claims(),
        });
      }
      const lastToken = () => last.tokens[`${url.searchParams.get("token")}_token`];
      if (url.pathname === "/introspect") {
        return json(res, 200, await client.tokenIntrospection(config, lastToken()));
      }
      if (url.pathname === "/revoke") {
        await client.tokenRevocation(config, lastToken());
        return json(res, 200, { revoked: true });
      }
      json(res, 404, { error: "not_found" });
    } catch (e) {
      json(res, 400, failure(e));
    }
  })
  .listen(port, "127.0.0.1");
