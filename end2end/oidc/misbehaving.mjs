// A deliberately broken OpenID Provider, for what a real one will not do on demand: bad
// signatures, wrong iss/aud/nonce, expired or future tokens, alg "none", HS256, key
// rotation, a userinfo `sub` that differs, a slow token endpoint. Test-only.
//
//   OIDC_PORT          port to listen on
//   OIDC_NO_USERINFO   =1: discovery has no userinfo endpoint
//   OIDC_SUB           the person's sub (default "mallory-1")
//   OIDC_SUB_PER_LOGIN =1: every authorization is a different person (sub "person-<n>")
//   GET /control?mode=<mode>   chooses how the next token response misbehaves
//   POST /sign {claims, key}   a JWT of exactly `claims`, signed RS256 with its key "k1"
//                              (or key "stranger": not in its JWKS), for logout tokens
// In mode "ok" it is also the fast provider of the benchmarks (scripts/bench.sh).
// Authorization is immediate (no login): /authorize redirects straight back with a code.
import http from "node:http";
import { SignJWT, exportJWK, generateKeyPair, UnsecuredJWT } from "jose";

const port = Number(process.env.OIDC_PORT);
const issuer = `http://127.0.0.1:${port}`;
const clientId = "portcullis-basic";
const clientSecret = "basic-secret";

const k1 = await generateKeyPair("RS256", { extractable: true });
const k2 = await generateKeyPair("RS256", { extractable: true });
const stranger = await generateKeyPair("RS256", { extractable: true });
const jwk = async (pair, kid) => ({ ...(await exportJWK(pair.publicKey)), kid, alg: "RS256", use: "sig" });
let jwks = { keys: [await jwk(k1, "k1")] };
let mode = "ok";
const noUserinfo = process.env.OIDC_NO_USERINFO === "1";
const subPerLogin = process.env.OIDC_SUB_PER_LOGIN === "1";
let logins = 0;
const tokens = new Map(); // access token -> sub
const codes = new Map(); // code -> { nonce, sub }
let counts = {}; // path -> requests, for "how many requests does a sign-in make"

function json(res, status, body) {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

async function idToken(nonce, sub) {
  const now = Math.floor(Date.now() / 1000);
  let claims = { sub, nonce, email: `${sub}@bad.example`, preferred_username: sub, name: "Mallory" };
  let iss = issuer, aud = clientId, iat = now, exp = now + 300;
  let key = k1.privateKey, kid = "k1";
  switch (mode) {
    case "bad-signature": key = stranger.privateKey; break;
    case "wrong-iss": iss = issuer + "/other"; break;
    case "wrong-aud": aud = "someone-else"; break;
    case "wrong-nonce": claims.nonce = "not-the-nonce"; break;
    case "expired": iat = now - 3600; exp = now - 1800; break;
    case "future-iat": iat = now + 3600; exp = now + 7200; break;
    case "rotated":
      if (jwks.keys.length === 1) jwks = { keys: [jwks.keys[0], await jwk(k2, "k2")] };
      key = k2.privateKey; kid = "k2";
      break;
    case "none":
      return new UnsecuredJWT(claims).setIssuer(iss).setAudience(aud).setIssuedAt(iat).setExpirationTime(exp).encode();
    case "hs256":
      return await new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).setIssuer(iss).setAudience(aud)
        .setIssuedAt(iat).setExpirationTime(exp).sign(new TextEncoder().encode(clientSecret));
  }
  return await new SignJWT(claims).setProtectedHeader({ alg: "RS256", kid }).setIssuer(iss).setAudience(aud)
    .setIssuedAt(iat).setExpirationTime(exp).sign(key);
}

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, issuer);
  if (url.pathname === "/stats") {
    const body = counts;
    if (url.searchParams.has("reset")) counts = {};
    return json(res, 200, body);
  }
  counts[url.pathname] = (counts[url.pathname] || 0) + 1;
  if (url.pathname === "/.well-known/openid-configuration") {
    return json(res, 200, {
      issuer,
      authorization_endpoint: `${issuer}/authorize`,
      token_endpoint: `${issuer}/token`,
      ...(noUserinfo ? {} : { userinfo_endpoint: `${issuer}/userinfo` }),
      jwks_uri: `${issuer}/jwks`,
      response_types_supported: ["code"],
      subject_types_supported: ["public"],
      id_token_signing_alg_values_supported: ["RS256"],
      token_endpoint_auth_methods_supported: ["client_secret_basic"],
      code_challenge_methods_supported: ["S256"],
      scopes_supported: ["openid", "profile", "email"],
    });
  }
  if (url.pathname === "/jwks") return json(res, 200, jwks);
  if (url.pathname === "/control") {
    mode = url.searchParams.get("mode") || "ok";
    return json(res, 200, { mode });
  }
  if (url.pathname === "/sign" && req.method === "POST") {
    let body = "";
    for await (const chunk of req) body += chunk;
    const { claims, key } = JSON.parse(body);
    const token = await new SignJWT(claims).setProtectedHeader({ alg: "RS256", kid: "k1", typ: "logout+jwt" })
      .sign(key === "stranger" ? stranger.privateKey : k1.privateKey);
    return json(res, 200, { token });
  }
  if (url.pathname === "/authorize") {
    const code = Math.random().toString(36).slice(2);
    logins += 1;
    codes.set(code, { nonce: url.searchParams.get("nonce"), sub: subPerLogin ? `person-${logins}` : process.env.OIDC_SUB || "mallory-1" });
    const back = new URL(url.searchParams.get("redirect_uri"));
    back.searchParams.set("code", code);
    back.searchParams.set("state", url.searchParams.get("state"));
    res.writeHead(302, { location: back.toString() });
    return res.end();
  }
  if (url.pathname === "/token" && req.method === "POST") {
    let body = "";
    for await (const chunk of req) body += chunk;
    const code = new URLSearchParams(body).get("code");
    if (!codes.has(code)) return json(res, 400, { error: "invalid_grant" });
    const { nonce, sub } = codes.get(code);
    codes.delete(code);
    tokens.set("at-" + code, sub);
    if (mode === "slow") await new Promise((r) => setTimeout(r, 15_000));
    return json(res, 200, { access_token: "at-" + code, token_type: "Bearer", expires_in: 300, id_token: await idToken(nonce, sub) });
  }
  if (url.pathname === "/userinfo" && !noUserinfo) {
    const sub = tokens.get((req.headers.authorization || "").replace(/^Bearer /, "")) || "mallory-1";
    return json(res, 200, { sub: mode === "userinfo-mismatch" ? "someone-else" : sub, email: `${sub}@bad.example` });
  }
  json(res, 404, { error: "not_found" });
});
server.listen(port, "127.0.0.1", () => console.log(`misbehaving provider on ${issuer}`));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
