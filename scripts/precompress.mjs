// Writes `<file>.br` (brotli, quality 11) and `<file>.gz` (gzip -9) beside every .js, .css,
// .wasm and .svg file in the given directories, so the server sends them as built and never
// compresses static assets per request. Node's zlib, so no extra tool is needed.
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

for (const dir of process.argv.slice(2)) {
  for (const name of readdirSync(dir)) {
    const file = join(dir, name);
    if (!/\.(js|css|wasm|svg)$/.test(name) || !statSync(file).isFile()) continue;
    const data = readFileSync(file);
    const br = brotliCompressSync(data, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: 11,
        // The largest window brotli defines (RFC 7932: 16 MiB; every browser decodes it):
        // the wasm's far repeats are found (0.14 KB of the editors' first load).
        [constants.BROTLI_PARAM_LGWIN]: 24,
        [constants.BROTLI_PARAM_SIZE_HINT]: data.length,
      },
    });
    writeFileSync(file + ".br", br);
    writeFileSync(file + ".gz", gzipSync(data, { level: 9 }));
    console.log(`  ${name.padEnd(28)} ${String(data.length).padStart(9)} B, br ${br.length} B`);
  }
}
