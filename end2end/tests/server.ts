// A Portcullis server with a fresh data directory on a free port: what the `server` fixture
// (fixtures.ts) gives each spec.
import { ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { ICONS } from "../ports";

const __dirname = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(__dirname, "../..");
/** The server binary (scripts/test.sh sets PORTCULLIS_BIN to the debug build). */
export const bin = process.env.PORTCULLIS_BIN ?? path.join(root, "target/release/portcullis");
/** The browser bundle and assets (cargo leptos / scripts/build.sh output), unless
 * PORTCULLIS_E2E_SITE points at a copy. */
const site = process.env.PORTCULLIS_E2E_SITE ?? path.join(root, "target/site");

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** How to start a server: all optional. */
export type ServerOptions = {
  /** The host name browsers reach it by (one that Chromium's --host-resolver-rules in
   * playwright.config.ts maps to loopback); it becomes the server's --public-url. */
  host?: string;
  /** More command-line arguments. */
  args?: string[];
  env?: Record<string, string>;
};

export type Server = {
  /** The URL browsers reach it at: http://127.0.0.1:<port>, or http://<host>:<port>. */
  url: string;
  port: number;
  dataDir: string;
  stop: () => void;
  /** Runs the real CLI against this server's database; returns what it prints. */
  cli: (args: string[], input?: string) => string;
};

/** Waits until `url` answers 2xx, or throws after `ms` (or as soon as `exited()` says so). */
export async function waitFor(url: string, what: string, exited: () => boolean, ms = 30_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (exited()) throw new Error(`${what} exited before answering ${url}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${what} did not answer ${url} within ${ms / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Starts a server on a free port (the icon host of this run as its catalogue); resolves
 * once it answers /healthz. */
export async function startServer(opts: ServerOptions = {}): Promise<Server> {
  const port = await freePort();
  const loopback = `http://127.0.0.1:${port}`;
  const url = opts.host ? `http://${opts.host}:${port}` : loopback;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "portcullis-e2e-"));
  const env = { ...process.env, LEPTOS_SITE_ROOT: site, PORTCULLIS_LOG: "warn", ...opts.env };
  const child: ChildProcess = spawn(
    bin,
    [
      "serve", "--listen", `127.0.0.1:${port}`, "--data-dir", dataDir,
      "--icon-index-url", `${ICONS}/index.json`, "--icon-base-url", ICONS,
      ...(opts.host ? ["--public-url", url] : []),
      ...(opts.args ?? []),
    ],
    { env, stdio: ["ignore", "ignore", "inherit"] },
  );
  const kill = () => child.kill();
  // Also when the worker ends without tearing its fixtures down.
  process.once("exit", kill);
  const stop = () => {
    kill();
    process.off("exit", kill);
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await waitFor(`${loopback}/healthz`, bin, () => child.exitCode !== null);
  } catch (e) {
    stop();
    throw e;
  }
  const cli = (args: string[], input = "") =>
    execFileSync(bin, args, {
      input,
      encoding: "utf8",
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...env, PORTCULLIS_DATA_DIR: dataDir },
    });
  return { url, port, dataDir, stop, cli };
}
