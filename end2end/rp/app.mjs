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
//
// Back-Channel Logout 1.0 (openid-client 6 has no helper for the RP side, so `jose`, which it
// is built on, verifies): POST /backchannel takes `logout_token` (form), verifies its
// signature against Portcullis's JWKS and its claims (§2.6: iss, aud, iat, exp, the
// back-channel event, sid or sub, no nonce) and records it (200), or answers 400;
// GET /received lists the verified tokens' claims; GET /backchannel/fail?times=N answers the
// next N logout tokens 500 (a retry test).
import http from "node:http";
import * as jose from "jose";
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

const BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout";
const jwks = jose.createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri));
/** The verified logout tokens' claims, in arrival order. */
const received = [];
let failNext = 0;

const body = (req) =>
  new Promise((resolve, reject) => {
    let data = "";
    req.on("data", (chunk) => (data += chunk));
    req.on("end", () => resolve(data));
    req.on("error", reject);
  });

/** A logout token's claims, verified as Back-Channel Logout §2.6 says, or an exception. */
async function verifyLogoutToken(token) {
  const { payload } = await jose.jwtVerify(token, jwks, {
    issuer: config.serverMetadata().issuer,
    audience: env("RP_CLIENT_ID"),
    algorithms: [env("RP_ID_TOKEN_ALG", "RS256")],
    requiredClaims: ["iat", "exp", "jti", "events"],
    maxTokenAge: "5 minutes",
  });
  if (typeof payload.events?.[BACKCHANNEL_EVENT] !== "object") {
    throw new Error("no back-channel logout event");
  }
  if (payload.sid === undefined && payload.sub === undefined) throw new Error("neither sid nor sub");
  if ("nonce" in payload) throw new Error("a logout token must not carry a nonce");
  return payload;
}

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
      if (url.pathname === "/backchannel" && req.method === "POST") {
        const token = new URLSearchParams(await body(req)).get("logout_token");
        if (failNext > 0) {
          failNext -= 1;
          return json(res, 500, { error: "failing on purpose" });
        }
        try {
          received.push(await verifyLogoutToken(token ?? ""));
        } catch (e) {
          return json(res, 400, { error: "invalid_request", error_description: e.message });
        }
        res.writeHead(200, { "cache-control": "no-store" });
        return res.end();
      }
      if (url.pathname === "/backchannel/fail") {
        failNext = Number(url.searchParams.get("times") ?? "1");
        return json(res, 200, { failing: failNext });
      }
      if (url.pathname === "/received") return json(res, 200, received);
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
