// Serves an offline selfh.st snapshot as the icon catalogue for end-to-end tests:
// /index.json and /<fmt>/<name>.<fmt>. The snapshot has only the default SVG of a few icons,
// so a -light/-dark request gets the default image.
//
//   ICONS_PORT   port to listen on
//   ICONS_DIR    the snapshot's directory; default the repository's sample (fixtures/selfhst).
//                scripts/demo.sh and scripts/bench.sh pass the full one (../shared/fixtures/selfhst)
//                when it is there.
import http from "node:http";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const fixtures = path.resolve(process.env.ICONS_DIR || path.join(here, "../../fixtures/selfhst"));
const port = Number(process.env.ICONS_PORT);
let requests = 0;

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, "http://localhost");
  if (url.pathname === "/stats") {
    res.writeHead(200, { "content-type": "application/json" });
    return res.end(JSON.stringify({ index: requests }));
  }
  try {
    if (url.pathname === "/index.json") {
      requests += 1;
      const body = await readFile(path.join(fixtures, "index.json"));
      res.writeHead(200, { "content-type": "application/json" });
      return res.end(body);
    }
    const m = url.pathname.match(/^\/svg\/([a-z0-9.-]+?)(-light|-dark)?\.svg$/);
    if (m) {
      const body = await readFile(path.join(fixtures, "svg", `${m[1]}.svg`));
      res.writeHead(200, { "content-type": "image/svg+xml", "cache-control": "max-age=3600" });
      return res.end(body);
    }
  } catch {
    // missing file: 404 below
  }
  res.writeHead(404);
  res.end();
});
server.listen(port, "127.0.0.1", () => console.log(`icon fixtures on http://127.0.0.1:${port}`));
