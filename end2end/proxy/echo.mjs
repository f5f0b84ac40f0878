// The application behind the proxies in tests: answers every request with what it
// received (method, URL, headers) as JSON, so a test can see what the proxy passed on, and
// which application it is (`app`: the host it serves; one echo per host, so a test sees
// which server block or site the proxy routed to).
// Usage: node echo.mjs <port> [name]   (listens on 127.0.0.1; port 0 picks one)
import http from "node:http";

export function startEcho(port, name = "") {
  const server = http.createServer((req, res) => {
    const body = JSON.stringify({ app: name, method: req.method, url: req.url, headers: req.headers }, null, 2);
    const headers = { "content-type": "application/json", "cache-control": "no-store" };
    // An app that answers with an internal redirect for the proxy to serve instead (Rack's
    // Sendfile, PHP apps' downloads): `?x-accel-redirect=/path`.
    // The corpus sends URLs that no URL parser takes: those ask for nothing.
    const match = /[?&]x-accel-redirect=([^&#]*)/.exec(req.url);
    if (match && /^[\x21-\x7e]+$/.test(match[1])) headers["x-accel-redirect"] = match[1];
    res.writeHead(200, headers);
    res.end(body);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const port = Number(process.argv[2]);
  if (Number.isNaN(port)) throw new Error("usage: node echo.mjs <port> [name]");
  const server = await startEcho(port, process.argv[3]);
  console.log(JSON.stringify({ echo: server.address().port }));
}
