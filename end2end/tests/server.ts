// A Portcullis server of a spec's own, with a fresh data directory on a free port: for specs
// that must not share the installation of the configured js/nojs servers (a11y.spec.ts walks
// a first-run setup; applications.spec.ts and forward-auth.spec.ts add users and apps that
// would close auth.spec.ts's first-run setup).
import { ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { ICONS } from "../ports";

const __dirname = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(__dirname, "../..");
export const bin = process.env.PORTCULLIS_BIN ?? path.join(root, "target/release/portcullis");

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export type Server = {
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

/** Starts a server (the icon host of this run as its catalogue, plus `args`); resolves once
 * it answers /healthz. `port` picks the port (a free one otherwise). */
export async function startServer(opts: { args?: string[]; port?: number; env?: Record<string, string> } = {}): Promise<Server> {
  const port = opts.port ?? (await freePort());
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "portcullis-e2e-"));
  const url = `http://127.0.0.1:${port}`;
  const env = { ...process.env, LEPTOS_SITE_ROOT: path.join(root, "target/site"), PORTCULLIS_LOG: "warn", ...opts.env };
  const child: ChildProcess = spawn(
    bin,
    [
      "--listen", `127.0.0.1:${port}`, "--data-dir", dataDir,
      "--icon-index-url", `${ICONS}/index.json`, "--icon-base-url", ICONS,
      ...(opts.args ?? []),
    ],
    { env, stdio: ["ignore", "ignore", "inherit"] },
  );
  const kill = () => child.kill();
  // Also when the worker ends without running afterAll (a timeout in beforeAll).
  process.once("exit", kill);
  const stop = () => {
    kill();
    process.off("exit", kill);
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await waitFor(`${url}/healthz`, bin, () => child.exitCode !== null);
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
