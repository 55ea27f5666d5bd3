// Parses Mermaid diagrams with Mermaid's own parser (npm "mermaid" under
// jsdom). Run from a folder whose node_modules holds mermaid and jsdom:
//   node --input-type=module - BLOCKS.json < mermaid-parse.mjs
// BLOCKS.json is an array of {"name", "text"}; prints one JSON array of
// {"name", "ok", "error"} on stdout.
import { readFileSync } from "node:fs";
import { JSDOM } from "jsdom";

const dom = new JSDOM("<!doctype html><html><body></body></html>");
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import("mermaid");
// GitLab renders Mermaid with its default limits; keep them.
mermaid.initialize({ startOnLoad: false });
const blocks = JSON.parse(readFileSync(process.argv[process.argv.length - 1], "utf8"));
const out = [];
for (const b of blocks) {
  try {
    await mermaid.parse(b.text);
    out.push({ name: b.name, ok: true });
  } catch (e) {
    out.push({ name: b.name, ok: false, error: String(e && e.message ? e.message : e).slice(0, 400) });
  }
}
process.stdout.write(JSON.stringify(out));
