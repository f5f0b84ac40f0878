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
//     --caddy 8081 --nginx 8082 --echo 8083 [--hosts app.portcullis.test,other.portcullis.test]
//
// The configurations are the README's: its first ```caddyfile and ```nginx blocks (section
// "Forward authentication"), one site / server block per host, with only the host name, the
// upstream addresses (Portcullis, the app) and the listen/TLS lines changed (`readmeSites`,
// `readmeServers` below; each change must apply, or the start fails). Caddyfile.template and
// nginx.conf.template add what a test needs around them (no admin API, temp paths, loopback).
//
// Portcullis must list http://<host>:<caddy port> and http://<host>:<nginx port> as
// application URLs and trust 127.0.0.1 as a proxy (--trusted-proxies 127.0.0.1). The host
// names must resolve to 127.0.0.1 for the client (Chromium: --host-resolver-rules="MAP
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

/** The README's first fenced block of `lang` (```caddyfile, ```nginx). */
export function readmeBlock(lang) {
  const readme = readFileSync(path.join(here, "../../README.md"), "utf8");
  const m = readme.match(new RegExp("^```" + lang + "\\n([\\s\\S]*?)^```$", "m"));
  if (!m) throw new Error(`README.md has no \`\`\`${lang} block`);
  return m[1];
}

/** `text` with each [from, to] replaced; every `from` must occur (the README changed shape
 * otherwise, and the tests would run something else than it shows). */
function substitute(text, pairs, what) {
  for (const [from, to] of pairs) {
    if (!text.includes(from)) throw new Error(`README's ${what} no longer contains ${JSON.stringify(from)}: update end2end/proxy/start.mjs`);
    text = text.split(from).join(to);
  }
  return text;
}

/** The README's Caddy site, once per host, on loopback plain http. */
function readmeSites({ hosts, caddyPort, portcullis, echoPorts }) {
  const block = readmeBlock("caddyfile");
  return hosts.map((host, i) => substitute(block, [
    ["sonarr.home.example {", `http://${host}:${caddyPort} {\n\tbind 127.0.0.1`],
    ["forward_auth portcullis:3000 {", `forward_auth ${portcullis} {`],
    // The README's port rule: a site on another port than 443 names it.
    ["header_up X-Forwarded-Host {http.request.host}", `header_up X-Forwarded-Host {http.request.host}:${caddyPort}`],
    ["reverse_proxy sonarr:8989", `reverse_proxy 127.0.0.1:${echoPorts[i]}`],
  ], "Caddy block")).join("\n");
}

/** The README's nginx blocks: the default server once, the application's once per host. */
function readmeServers({ hosts, nginxPort, portcullis, echoPorts }) {
  const block = readmeBlock("nginx");
  // Split at the blank lines before top-level `server {` lines (or the comments above one).
  const parts = block.split(/\n\n(?=(?:#[^\n]*\n)*server \{)/).map((p) => p.trim() + "\n");
  const fallback = parts.filter((p) => p.includes("default_server"));
  const apps = parts.filter((p) => !p.includes("default_server"));
  if (parts.length !== 2 || fallback.length !== 1 || apps.length !== 1) {
    throw new Error("README's nginx block: expected a default server and one application server; update end2end/proxy/start.mjs");
  }
  const listen = `listen 127.0.0.1:${nginxPort}`;
  const out = [substitute(fallback[0], [
    ["listen 443 ssl default_server;", `${listen} default_server;`],
    ["    ssl_reject_handshake on;\n", ""],
  ], "nginx default server")];
  for (const [i, host] of hosts.entries()) {
    out.push(substitute(apps[0], [
      ["listen 443 ssl;", `${listen};`],
      ["server_name sonarr.home.example;", `server_name ${host};`],
      ["proxy_pass http://portcullis:3000/", `proxy_pass ${portcullis}/`],
      ["proxy_pass http://sonarr:8989;", `proxy_pass http://127.0.0.1:${echoPorts[i]};`],
    ], "nginx application server"));
  }
  return out.join("\n");
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

/** Starts the echo applications (one per host: the first on `echoPort`, the others on ports
 * the system picks), Caddy and nginx; resolves to { dir, stop() } once all listen. */
export async function startProxies({ portcullis, caddyPort, nginxPort, echoPort, hosts = ["app.portcullis.test"] }) {
  const dir = mkdtempSync(path.join(os.tmpdir(), "portcullis-proxy-"));
  for (const d of ["body", "proxy", "fastcgi", "uwsgi", "scgi", "caddy-home"]) mkdirSync(path.join(dir, d));
  const echoes = [];
  for (const [i, host] of hosts.entries()) echoes.push(await startEcho(i === 0 ? echoPort : 0, host));
  const echoPorts = echoes.map((e) => e.address().port);
  const closeEchoes = () => Promise.all(echoes.map((e) => new Promise((r) => e.close(r))));
  let bench, values;
  try {
    bench = { hosts, caddyPort, nginxPort, echoPorts, portcullis: portcullis.replace(/\/$/, "") };
    values = { SITES: readmeSites(bench), SERVERS: readmeServers(bench), DIR: dir };
  } catch (e) {
    await closeEchoes();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  writeFileSync(path.join(dir, "Caddyfile"), fill("Caddyfile.template", values));
  writeFileSync(path.join(dir, "nginx.conf"), fill("nginx.conf.template", values));

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
    await closeEchoes();
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
    hosts: (args.hosts || args.host || "app.portcullis.test").split(","),
  });
  console.log(JSON.stringify({ ready: true, caddy: Number(args.caddy), nginx: Number(args.nginx), echo: Number(args.echo) }));
  const quit = async () => { await bench.stop(); process.exit(0); };
  process.on("SIGTERM", quit);
  process.on("SIGINT", quit);
  // Also stop when the parent closes our stdin (a test harness that went away).
  process.stdin.on("end", quit);
  process.stdin.resume();
}
