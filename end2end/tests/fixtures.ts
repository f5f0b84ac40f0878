// The fixtures of every spec (Playwright `test.extend`): a Portcullis server and database of
// the spec's own, and a client of its own at the shared test OpenID Provider.
//
// A spec declares its server at the top, which also makes it stand alone:
//
//     test.use({ portcullis: {} });                      // or { host, args, env }: ServerOptions
//
// `portcullis` is a worker-scoped option, and Playwright runs tests with different values of
// a worker-scoped option in different worker processes; each spec's `{}` is an object of its
// own, so each spec (per project, per --repeat-each round, and again after a failure) runs in
// a worker of its own, whose `server` fixture starts a fresh server on a free port and stops
// it (deleting its data directory) when the spec is done. So no spec sees another's users,
// providers or sessions, and they pass alone and in any order. Specs that pass the same
// options object would share a worker and so a server: only for specs that change nothing.
import { test as base } from "@playwright/test";
import { IDP } from "../ports";
import { Server, ServerOptions, startServer } from "./server";

// Everything else as @playwright/test has it; `test` is the one below.
export * from "@playwright/test";
export type { Server, ServerOptions };

/** This spec's client at the test OpenID Provider (end2end/oidc/provider.mjs). */
export type TestIdp = {
  /** The provider's issuer URL (one provider serves the whole run). */
  issuer: string;
  /** Registered for this spec's server alone (Dynamic Client Registration, RFC 7591): the
   * provider accepts exactly `redirectUri`, the one Portcullis must send for the provider
   * slug "test-idp", and `redirectUri`/signed-out after a sign-out. */
  clientId: string;
  clientSecret: string;
  redirectUri: string;
};

type WorkerFixtures = {
  /** This spec's server options; every spec sets them with test.use (see above). */
  portcullis: ServerOptions | undefined;
  /** This spec's server, started on first use. */
  server: Server;
  /** This spec's client at the test OpenID Provider, registered on first use. */
  testIdp: TestIdp;
};

export const test = base.extend<{}, WorkerFixtures>({
  portcullis: [undefined, { scope: "worker", option: true }],

  server: [
    async ({ portcullis }, use) => {
      if (!portcullis) {
        throw new Error("this spec has no server of its own: declare one with test.use({ portcullis: {} }) (tests/fixtures.ts)");
      }
      const server = await startServer(portcullis);
      await use(server);
      server.stop();
    },
    { scope: "worker" },
  ],

  testIdp: [
    async ({ server }, use) => {
      const redirectUri = `${server.url}/login/test-idp`;
      const res = await fetch(`${IDP}/reg`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          redirect_uris: [redirectUri],
          post_logout_redirect_uris: [`${redirectUri}/signed-out`],
          token_endpoint_auth_method: "client_secret_basic",
        }),
      });
      if (!res.ok) throw new Error(`the test OpenID Provider refused to register ${redirectUri}: ${res.status} ${await res.text()}`);
      const client: { client_id: string; client_secret: string } = await res.json();
      await use({ issuer: IDP, clientId: client.client_id, clientSecret: client.client_secret, redirectUri });
    },
    { scope: "worker" },
  ],

  // Pages open this spec's server: page.goto("/login").
  baseURL: async ({ server }, use) => use(server.url),
});
