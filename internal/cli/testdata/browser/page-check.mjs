// Opens a report's index.html in headless Chromium (playwright-core, the
// system chromium) with every network request refused, waits for its
// script, writes a screenshot and prints what the Go test asserts:
//   node --input-type=module - PAGE.html SHOT.png < page-check.mjs
import { chromium } from "playwright-core";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [page_, shot] = process.argv.slice(-2);
const exe = process.env.CHROMIUM || "/usr/bin/chromium";
const ctx = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), "tokenscope-chromium-")), {
  executablePath: exe, headless: true, viewport: { width: 1400, height: 1000 },
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync"],
});
const errors = [], requests = [];
const page = ctx.pages()[0] || await ctx.newPage();
page.on("console", (m) => { if (m.type() === "error" || m.type() === "warning") errors.push(m.type() + ": " + m.text()); });
page.on("pageerror", (e) => errors.push("pageerror: " + e.message));
// A dialog means injected script ran (alert in hostile evidence).
page.on("dialog", (d) => { errors.push("dialog: " + d.message()); d.dismiss().catch(() => {}); });
await ctx.route("**/*", (r) => {
  const u = r.request().url();
  if (u.startsWith("file:")) return r.continue();
  requests.push(u);
  return r.abort();
});
const url = pathToFileURL(page_).href + "#all";
await page.goto(url, { waitUntil: "load", timeout: 120000 });
try {
  await page.waitForSelector("body[data-ready]", { state: "attached", timeout: 20000 });
} catch (e) {
  errors.push("the page script did not finish: " + e.message.split("\n")[0]);
  process.stdout.write(JSON.stringify({ errors, requests }));
  await ctx.close();
  process.exit(0);
}
const res = await page.evaluate(() => {
  const rows = [...document.querySelectorAll("#edges tbody tr[data-edge]")];
  const keys = rows.map((r) => [r.cells[0].textContent, r.cells[1].textContent, r.cells[4].textContent.split(" ")[0]].join(" "));
  const links = [...document.querySelectorAll("#edges a[href^='http']")].map((a) => a.href);
  const svg = document.getElementById("svg-overview");
  const box = svg ? svg.getBoundingClientRect() : null;
  return {
    ready: +document.body.getAttribute("data-ready"),
    rows: rows.length,
    links: links.length,
    firstLink: links[0] || "",
    firstCaller: (rows.map((r) => r.cells[0].textContent).find((c) => !c.startsWith("group ")) || ""),
    keys,
    svgNodes: svg ? svg.querySelectorAll("g.node").length : 0,
    svgArrows: svg ? svg.querySelectorAll("path.arrow").length : 0,
    svgWidth: box ? box.width : 0,
    drills: document.querySelectorAll("details.drill").length,
    summaryEdges: document.getElementById("s-edges").textContent,
  };
});
await page.evaluate(() => window.scrollTo(0, 0));
await page.screenshot({ path: shot, fullPage: false });
// Drill-down: a click on a group box opens that group's picture.
if (res.drills > 0) {
  await page.locator("#svg-overview g.node[data-drill]").first().click();
  res.drillOpened = await page.evaluate(() => [...document.querySelectorAll("details.drill")].filter((d) => d.open).length);
  await page.screenshot({ path: shot.replace(/\.png$/, "-drill.png"), fullPage: false });
}
// The per-project view: which allowlists the first caller is on.
if (res.rows > 0) {
  await page.fill("#project", res.firstCaller);
  await page.dispatchEvent("#project", "change");
  res.lookupOut = await page.locator("#pv-out tbody tr").count();
}
await ctx.close();
res.errors = errors;
res.requests = requests;
process.stdout.write(JSON.stringify(res));
