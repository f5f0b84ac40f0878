// The element ids of app/src/ids.rs, read from that file, so the app and the tests cannot
// drift apart: `pub const LOGIN_FORM: &str = "login-form";` is `ids.loginForm === "#login-form"`.
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const __dirname = path.dirname(fileURLToPath(import.meta.url));
const file = path.resolve(__dirname, "../../app/src/ids.rs");
const source = readFileSync(file, "utf8");

const camel = (name: string) => name.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

const found: Record<string, string> = {};
const line = /^pub const ([A-Z][A-Z0-9_]*): &str = "([^"\\]+)";$/gm;
for (const [, name, value] of source.matchAll(line)) found[camel(name)] = `#${value}`;
// Every `pub const` must be one line of that shape, or an id would be missing here.
const declared = source.match(/^pub const /gm)?.length ?? 0;
if (declared === 0 || declared !== Object.keys(found).length) {
  throw new Error(`${file}: ${declared} pub consts, ${Object.keys(found).length} of the form pub const NAME: &str = "value";`);
}

/** `ids.loginForm` is `"#login-form"`; a name that app/src/ids.rs lacks throws instead of
 * silently selecting nothing. */
export const ids: Record<string, string> = new Proxy(found, {
  get(target, key) {
    if (typeof key === "string" && !(key in target)) throw new Error(`app/src/ids.rs has no id "${key}"`);
    return Reflect.get(target, key);
  },
});
