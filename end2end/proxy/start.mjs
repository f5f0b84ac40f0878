// Starts the forward-authentication test bench: the echo application, and Caddy and nginx in
// front of it asking Portcullis, all on loopback. From Node:
//
//   import { startProxies } from "./proxy/start.mjs";
//   const bench = await startProxies({ portcullis: "http://127.0.0.1:3000",
//     caddyPort: 8081, nginxPort: 8082, echoPort: 8083 });
//   ... open http://app.portcullis.test:8081/ (Caddy) or :8082 (nginx) ...
//   await bench.stop();
//
// From a shell (runs until interrupted; prints one JSON line when ready):
//
//   node end2end/proxy/start.mjs --portcullis http://127.0.0.1:3000 \
//     --caddy 8081 --nginx 8082 --echo 8083 [--host app.portcullis.test]
//
// Portcullis must list http://<host>:<caddy port> and http://<host>:<nginx port> as
// application URLs and trust 127.0.0.1 as a proxy (--trusted-proxies 127.0.0.1). The host
// name must resolve to 127.0.0.1 for the client (Chromium: --host-resolver-rules="MAP
// *.portcullis.test 127.0.0.1"; reqwest: ClientBuilder::resolve); no /etc/hosts edits.
import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startEcho } from "./echo.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));

function fill(template, values) {
  return readFileSync(path.join(here, template), "utf8").replace(/\{\{(\w+)\}\}/g, (_, k) => {
    if (!(k in values)) throw new Error(`no value for {{${k}}} in ${template}`);
    return values[k];
  });
}

function waitForPort(port, what, child, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      if (child && child.exitCode !== null) {
        return reject(new Error(`${what} exited with ${child.exitCode}`));
      }
      const socket = net.connect(port, "127.0.0.1");
      socket.once("connect", () => { socket.destroy(); resolve(); });
      socket.once("error", () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`${what} did not listen on ${port}`));
        else setTimeout(attempt, 100);
      });
    };
    attempt();
  });
}

/** Starts echo, Caddy and nginx; resolves to { dir, stop() } once all three listen. */
export async function startProxies({ portcullis, caddyPort, nginxPort, echoPort, host = "app.portcullis.test" }) {
  const dir = mkdtempSync(path.join(os.tmpdir(), "portcullis-proxy-"));
  for (const d of ["body", "proxy", "fastcgi", "uwsgi", "scgi", "caddy-home"]) mkdirSync(path.join(dir, d));
  const values = {
    PORTCULLIS: portcullis.replace(/\/$/, ""),
    APP_HOST: host,
    CADDY_PORT: String(caddyPort),
    NGINX_PORT: String(nginxPort),
    ECHO_PORT: String(echoPort),
    DIR: dir,
  };
  writeFileSync(path.join(dir, "Caddyfile"), fill("Caddyfile.template", values));
  writeFileSync(path.join(dir, "nginx.conf"), fill("nginx.conf.template", values));

  const echo = await startEcho(echoPort);
  const home = path.join(dir, "caddy-home");
  const caddy = spawn("caddy", ["run", "--config", path.join(dir, "Caddyfile"), "--adapter", "caddyfile"], {
    env: { ...process.env, HOME: home, XDG_DATA_HOME: home, XDG_CONFIG_HOME: home },
    stdio: ["ignore", "ignore", "pipe"],
  });
  const nginx = spawn("nginx", ["-c", path.join(dir, "nginx.conf"), "-p", dir, "-e", path.join(dir, "nginx-error.log")], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let caddyLog = "";
  caddy.stderr.on("data", (d) => { caddyLog = (caddyLog + d).slice(-4000); });
  let nginxLog = "";
  nginx.stderr.on("data", (d) => { nginxLog = (nginxLog + d).slice(-4000); });

  const stop = async () => {
    for (const child of [caddy, nginx]) {
      if (child.exitCode === null) child.kill("SIGTERM");
    }
    await Promise.all([caddy, nginx].map((c) => c.exitCode !== null ? null : new Promise((r) => c.once("exit", r))));
    await new Promise((r) => echo.close(r));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForPort(caddyPort, "caddy", caddy);
    await waitForPort(nginxPort, "nginx", nginx);
  } catch (e) {
    await stop();
    throw new Error(`${e.message}\ncaddy: ${caddyLog}\nnginx: ${nginxLog}`);
  }
  return { dir, stop };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = Object.fromEntries(
    process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith("--") ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
  );
  for (const k of ["portcullis", "caddy", "nginx", "echo"]) {
    if (!args[k]) throw new Error(`missing --${k}`);
  }
  const bench = await startProxies({
    portcullis: args.portcullis,
    caddyPort: Number(args.caddy),
    nginxPort: Number(args.nginx),
    echoPort: Number(args.echo),
    host: args.host || "app.portcullis.test",
  });
  console.log(JSON.stringify({ ready: true, caddy: Number(args.caddy), nginx: Number(args.nginx), echo: Number(args.echo) }));
  const quit = async () => { await bench.stop(); process.exit(0); };
  process.on("SIGTERM", quit);
  process.on("SIGINT", quit);
  // Also stop when the parent closes our stdin (a test harness that went away).
  process.stdin.on("end", quit);
  process.stdin.resume();
}
