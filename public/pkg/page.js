// What a page does in the browser without WebAssembly (issue 20): every page but the
// sign-in page loads this one module, with the page's CSP nonce (app/src/lib.rs). Only the
// provider and application editors load the app's wasm, their script
// (app/src/components/live_form.rs); everything here is plain DOM and the browser's Intl.
//
// 1. Times people read. The server renders each moment as <time data-moment datetime="…Z">
// with UTC minutes as its text (app/src/components/moment.rs), which is what a page says
// without JavaScript. Here the text becomes relative ("5 minutes ago") and the title the full
// moment in the viewer's own time zone, kept fresh while the page stays open.
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
// (dateStyle and timeStyle cannot be combined with timeZoneName: the fields are named.)
const full = new Intl.DateTimeFormat(undefined, {
  weekday: "long",
  year: "numeric",
  month: "long",
  day: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  timeZoneName: "short",
});
const UNITS = [
  ["year", 365 * 86400],
  ["month", 30 * 86400],
  ["week", 7 * 86400],
  ["day", 86400],
  ["hour", 3600],
  ["minute", 60],
];

function words(date) {
  const secs = (date.getTime() - Date.now()) / 1000;
  for (const [unit, size] of UNITS) {
    if (Math.abs(secs) >= size) return relative.format(Math.round(secs / size), unit);
  }
  return relative.format(0, "second"); // "now"
}

function show(el) {
  const date = new Date(el.getAttribute("datetime"));
  if (Number.isNaN(date.getTime())) return;
  const text = words(date);
  // The text node is changed in place, not replaced: a view that renders it keeps it.
  const node = el.firstChild;
  if (node && node.nodeType === Node.TEXT_NODE) {
    if (node.nodeValue !== text) node.nodeValue = text;
  } else {
    el.textContent = text;
  }
  const title = full.format(date);
  if (el.title !== title) el.title = title;
}

function showAll(root) {
  if (root.matches?.("time[data-moment]")) show(root);
  root.querySelectorAll?.("time[data-moment]").forEach(show);
}

showAll(document);
// Moments a script renders later get the same treatment, and so does a moment whose text
// a view writes back. A write of ours that
// changes nothing is not made, so our own writes end the round.
new MutationObserver((records) => {
  for (const r of records) {
    const at = r.target.nodeType === Node.ELEMENT_NODE ? r.target : r.target.parentElement;
    const moment = at?.closest("time[data-moment]");
    if (moment) show(moment);
    r.addedNodes.forEach((n) => n.nodeType === Node.ELEMENT_NODE && showAll(n));
  }
}).observe(document.body, { childList: true, subtree: true, characterData: true });
setInterval(() => showAll(document), 30_000);

// 2. Copy buttons (app/src/components/copy_button.rs): a button with data-copy="ID" copies
// the current value of the element ID (an input's value, else its text), so a value a script
// keeps up to date (the editor's redirect URIs follow the slug) is copied as shown. Without
// JavaScript the value is selectable by hand.
document.addEventListener("click", async (ev) => {
  const button = ev.target.closest?.("button[data-copy]");
  if (!button) return;
  const source = document.getElementById(button.dataset.copy);
  if (!source) return;
  const text = "value" in source ? source.value : source.textContent;
  try {
    await navigator.clipboard.writeText(text);
    button.textContent = "Copied";
  } catch {
    button.textContent = "Select and copy by hand";
  }
});

// 3. Tests wait for html[data-hydrated] to know a page is live: an editor's script sets it
// once it took the form over (app/src/components/live_form.rs); another page is live once
// this ran.
if (!document.querySelector("form[data-editor]")) {
  document.documentElement.setAttribute("data-hydrated", "true");
}
