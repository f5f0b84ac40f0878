// Writes <pkg>/split.json: for each lazily loaded part of the bundle (a lazy island's loader,
// a `#[lazy]` function), the files it needs besides portcullis.wasm, in load order. The
// server preloads an island's files with the page that shows it (`app::shell`), so the
// browser fetches them beside the bundle instead of after it has started, and the bench's
// first load counts them.
//
// wasm-split (wasm_split_cli_support, pinned in scripts/setup.sh) writes the same map as a
// library call but not from its command line; it does write each module's loader into
// __wasm_split.js, in two fixed forms, read here before the script is minified:
//   /* split_a, split_b */ const __chunk_4 = makeLoad(() => { const src = fetch(new URL("./chunk_4.wasm", ...
//   export const __wasm_split_load_split_a = wrapAsyncCb(makeLoad(() => { const src = fetch(new URL("./split_a.wasm", ...
// Anything else in the file, or a split module the map does not name, fails the build: a new
// wasm-split that writes the loader otherwise must be read anew, not half-read.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const pkg = process.argv[2];
const js = readFileSync(join(pkg, "__wasm_split.js"), "utf8");
const fetched = String.raw`makeLoad\(\(\) => \{\s*const src = fetch\(new URL\("\./([\w.]+)"`;
const map = {};
for (const [, splits, file] of js.matchAll(new RegExp(String.raw`/\* ([\w, ]+) \*/\s*const __chunk_\d+ = ${fetched}`, "g"))) {
  for (const split of splits.split(", ")) (map[split] ??= []).push(file);
}
for (const [, split, file] of js.matchAll(new RegExp(String.raw`export const __wasm_split_load_(\w+) = wrapAsyncCb\(${fetched}`, "g"))) {
  (map[split] ??= []).push(file);
}
const named = new Set(Object.values(map).flat());
const unnamed = readdirSync(pkg).filter((f) => /^(chunk|split)_.*\.wasm$/.test(f) && !named.has(f));
if (unnamed.length || !Object.keys(map).length) {
  console.error(`split-manifest: __wasm_split.js does not name ${unnamed.join(", ") || "any module"}; read its new form`);
  process.exit(1);
}
writeFileSync(join(pkg, "split.json"), JSON.stringify(map, null, 1));
for (const [split, files] of Object.entries(map)) console.log(`  ${split}: ${files.join(" ")}`);
