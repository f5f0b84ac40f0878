"""A second relying party nobody here wrote: Python authlib (its requests client) with
joserfc for the ID token, as a tiny web app the integration tests drive like a browser
(server/tests/common/rp.rs starts it; the same routes and answers as app.mjs).

It discovers Portcullis, builds the authorization request with authlib (PKCE S256, state,
nonce), checks `iss` in the response (RFC 9207), exchanges the code through authlib with the
configured client authentication, verifies the ID token's signature against the JWKS and
its claims (iss, aud, exp, nonce, at_hash) with joserfc and authlib, and reads userinfo.

Environment: RP_ISSUER, RP_CLIENT_ID, RP_CLIENT_SECRET, RP_AUTH (basic | post | none),
RP_SCOPE, RP_ID_TOKEN_ALG (RS256 | ES256), RP_PORT.

Back-Channel Logout 1.0: POST /backchannel takes `logout_token` (form), verifies its signature
against the JWKS with joserfc and its claims as section 2.6 says (iss, aud, iat, exp, jti, the
back-channel event, sid or sub, no nonce) and records it (200), or answers 400;
GET /received lists the verified tokens' claims; GET /backchannel/fail?times=N answers the
next N logout tokens 500.
"""

import json
import os
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc.core.util import create_half_hash
from joserfc import jwt
from joserfc.jwk import KeySet

env = os.environ.get
PORT = int(env("RP_PORT"))
REDIRECT_URI = f"http://127.0.0.1:{PORT}/callback"
ISSUER = env("RP_ISSUER")
CLIENT_ID = env("RP_CLIENT_ID")
SECRET = env("RP_CLIENT_SECRET") or None
METHOD = {"basic": "client_secret_basic", "post": "client_secret_post", "none": "none"}[
    env("RP_AUTH", "basic")
]
ALG = env("RP_ID_TOKEN_ALG", "RS256")
SCOPE = env("RP_SCOPE", "openid profile email groups")

META = requests.get(f"{ISSUER}/.well-known/openid-configuration", timeout=10).json()
if META["issuer"] != ISSUER:
    raise SystemExit(f"discovery names issuer {META['issuer']}, not {ISSUER}")
KEYS = KeySet.import_key_set(requests.get(META["jwks_uri"], timeout=10).json())

pending = {}
last = {}
received = []
fail_next = [0]
BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"


def verified_logout_claims(logout_token):
    """A logout token's claims, verified as Back-Channel Logout 1.0 section 2.6 says."""
    token = jwt.decode(logout_token, KEYS, algorithms=[ALG])
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": ISSUER},
        aud={"essential": True, "value": CLIENT_ID},
        iat={"essential": True},
        exp={"essential": True},
        jti={"essential": True},
    ).validate(token.claims)
    if not isinstance(token.claims.get("events", {}).get(BACKCHANNEL_EVENT), dict):
        raise ValueError("no back-channel logout event")
    if "sid" not in token.claims and "sub" not in token.claims:
        raise ValueError("neither sid nor sub")
    if "nonce" in token.claims:
        raise ValueError("a logout token must not carry a nonce")
    return token.claims


def session(token=None):
    return OAuth2Session(
        client_id=CLIENT_ID,
        client_secret=SECRET,
        scope=SCOPE,
        redirect_uri=REDIRECT_URI,
        code_challenge_method="S256",
        token_endpoint_auth_method=METHOD,
        revocation_endpoint_auth_method=METHOD,
        token=token,
    )


def verified_claims(id_token, access_token, nonce):
    """The ID token's header and claims, verified; `nonce` None for a refreshed ID token,
    which must carry none (OpenID Connect Core 12.2)."""
    token = jwt.decode(id_token, KEYS, algorithms=[ALG])
    if nonce is None and "nonce" in token.claims:
        raise ValueError("a refreshed ID token carries a nonce")
    expected_nonce = {} if nonce is None else {"nonce": {"essential": True, "value": nonce}}
    registry = jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": ISSUER},
        aud={"essential": True, "value": CLIENT_ID},
        sub={"essential": True},
        exp={"essential": True},
        iat={"essential": True},
        **expected_nonce,
    )
    registry.validate(token.claims)
    expected = create_half_hash(access_token, token.header["alg"]).decode()
    if token.claims.get("at_hash") != expected:
        raise ValueError("at_hash does not match the access token")
    return token.header, token.claims


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        if urllib.parse.urlsplit(self.path).path != "/backchannel":
            return self.answer(404, {"error": "not_found"})
        length = int(self.headers.get("content-length") or 0)
        form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
        if fail_next[0] > 0:
            fail_next[0] -= 1
            return self.answer(500, {"error": "failing on purpose"})
        try:
            received.append(verified_logout_claims(form.get("logout_token", "")))
        except Exception as e:  # joserfc's verdict
            return self.answer(400, {"error": "invalid_request", "error_description": str(e)})
        self.send_response(200)
        self.send_header("cache-control", "no-store")
        self.send_header("content-length", "0")
        self.end_headers()
        return None

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        try:
            if url.path == "/health":
                return self.answer(200, {"ok": True})
            if url.path == "/received":
                return self.answer(200, received)
            if url.path == "/backchannel/fail":
                fail_next[0] = int(query.get("times", "1"))
                return self.answer(200, {"failing": fail_next[0]})
            if url.path == "/login":
                verifier, nonce = generate_token(48), generate_token(20)
                uri, state = session().create_authorization_url(
                    META["authorization_endpoint"], code_verifier=verifier, nonce=nonce, **query
                )
                pending[state] = (verifier, nonce)
                self.send_response(302)
                self.send_header("location", uri)
                self.end_headers()
                return None
            if url.path == "/callback":
                verifier, nonce = pending.pop(query.get("state"), (None, None))
                if query.get("iss") != ISSUER:
                    raise ValueError(f"the response's iss is {query.get('iss')!r}")
                if verifier is None:
                    raise ValueError("a state this RP did not send")
                if "error" in query:
                    return self.answer(
                        400,
                        {"error": query["error"], "error_description": query.get("error_description")},
                    )
                s = session()
                token = s.fetch_token(
                    META["token_endpoint"],
                    authorization_response=f"{REDIRECT_URI}?{url.query}",
                    code_verifier=verifier,
                )
                header, claims = verified_claims(token["id_token"], token["access_token"], nonce)
                userinfo = s.get(META["userinfo_endpoint"], timeout=10)
                userinfo.raise_for_status()
                last["token"] = dict(token)
                return self.answer(
                    200,
                    {
                        "access_token": token["access_token"],
                        "refresh_token": token.get("refresh_token"),
                        "id_token": token["id_token"],
                        "token_type": token["token_type"],
                        "expires_in": token.get("expires_in"),
                        "scope": token.get("scope"),
                        "claims": claims,
                        "header": header,
                        "userinfo": userinfo.json(),
                    },
                )
            if url.path == "/userinfo":
                if not last:
                    return self.answer(409, {"error": "no tokens yet"})
                info = session(last["token"]).get(META["userinfo_endpoint"], timeout=10)
                info.raise_for_status()
                return self.answer(200, info.json())
            if url.path in ("/refresh", "/introspect", "/revoke") and not last:
                return self.answer(409, {"error": "no tokens yet"})
            if url.path == "/refresh":
                s = session(last["token"])
                token = s.refresh_token(
                    META["token_endpoint"], refresh_token=last["token"]["refresh_token"]
                )
                header, claims = verified_claims(token["id_token"], token["access_token"], None)
                last["token"] = dict(token)
                return self.answer(
                    200,
                    {
                        "access_token": token["access_token"],
                        "refresh_token": token.get("refresh_token"),
                        "scope": token.get("scope"),
                        "claims": claims,
                    },
                )
            if url.path in ("/introspect", "/revoke"):
                kind = query.get("token")
                token = last["token"][f"{kind}_token"]
                if url.path == "/introspect":
                    r = session().introspect_token(META["introspection_endpoint"], token=token)
                    r.raise_for_status()
                    return self.answer(200, r.json())
                r = session().revoke_token(META["revocation_endpoint"], token=token)
                r.raise_for_status()
                return self.answer(200, {"revoked": True})
            return self.answer(404, {"error": "not_found"})
        except Exception as e:  # the library's verdict, for the test to read
            return self.answer(
                400,
                {
                    "error": getattr(e, "error", None) or type(e).__name__,
                    "error_description": getattr(e, "description", None) or str(e),
                },
            )


ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
