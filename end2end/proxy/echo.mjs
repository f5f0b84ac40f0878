// The application behind the proxies in tests: answers every request with what it
// received (method, URL, headers) as JSON, so a test can see what the proxy passed on.
// Usage: node echo.mjs <port>   (listens on 127.0.0.1)
import http from "node:http";

export function startEcho(port) {
  const server = http.createServer((req, res) => {
    const body = JSON.stringify({ method: req.method, url: req.url, headers: req.headers }, null, 2);
    res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
    res.end(body);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const port = Number(process.argv[2]);
  if (!port) throw new Error("usage: node echo.mjs <port>");
  await startEcho(port);
  console.log(JSON.stringify({ echo: port }));
}
