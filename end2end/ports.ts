// The ports of one Playwright run: the OpenID Provider and the icon host, which every spec
// shares (each spec's own Portcullis server takes a free port when it starts: tests/server.ts).
// Free ports, chosen once per run by the first process that loads this module (the Playwright
// runner, reading playwright.config.ts) and passed on in PORTCULLIS_E2E_PORTS to the workers
// it starts, which load the config again and must agree. Setting PORTCULLIS_E2E_PORTS=idp,icons
// yourself picks them.
import { execFileSync } from "node:child_process";

/** `n` distinct ports that are free now: bound at once to port 0 by a short-lived Node
 * process (Node has no synchronous bind, and the config is evaluated synchronously). */
function freePorts(n: number): number[] {
  const script = `
    const net = require("node:net");
    const servers = [];
    for (let i = 0; i < ${n}; i++) {
      const s = net.createServer();
      s.listen(0, "127.0.0.1", () => {
        servers.push(s);
        if (servers.length === ${n}) {
          console.log(servers.map((x) => x.address().port).join(","));
          servers.forEach((x) => x.close());
        }
      });
    }`;
  const out = execFileSync(process.execPath, ["-e", script], { encoding: "utf8" });
  return out.trim().split(",").map(Number);
}

process.env.PORTCULLIS_E2E_PORTS ??= freePorts(2).join(",");
const ports = process.env.PORTCULLIS_E2E_PORTS.split(",").map(Number);
if (ports.length !== 2 || ports.some((p) => !Number.isInteger(p) || p <= 0)) {
  throw new Error(`PORTCULLIS_E2E_PORTS must be two ports (idp,icons), not "${process.env.PORTCULLIS_E2E_PORTS}"`);
}

export const [IDP_PORT, ICONS_PORT] = ports;
/** The OpenID Provider (npm oidc-provider, end2end/oidc/provider.mjs). */
export const IDP = `http://127.0.0.1:${IDP_PORT}`;
/** The icon host (end2end/icons/serve.mjs over fixtures/selfhst). */
export const ICONS = `http://127.0.0.1:${ICONS_PORT}`;
