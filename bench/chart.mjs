#!/usr/bin/env node
// The chart next to the table: reads bench/RESULTS.md (as bench/run.sh just wrote it) and
// draws bench/results.svg, verify ops/s per library and algorithm in Node, and the issuer's
// req/s per endpoint against the peer and simplejwt. Plain SVG, no dependency: bars on a
// log scale, since the figures span three orders of magnitude.
//
//   node bench/chart.mjs [bench/RESULTS.md] [bench/results.svg]
import { readFileSync, writeFileSync } from "node:fs";
import { num, table as tableIn } from "./tables.mjs";

const [input = new URL("RESULTS.md", import.meta.url).pathname, output = new URL("results.svg", import.meta.url).pathname] = process.argv.slice(2);
const markdown = readFileSync(input, "utf8");
const table = (heading) => tableIn(markdown, heading);


// Panel 1: sequential verify in Node, one group per algorithm, one bar per library.
const verify = table("## Verify in Node");
const libraries = verify.header.slice(2).filter((h) => !h.includes("/"));
const verifyGroups = verify.rows
  .filter((r) => r[1] === "sequential")
  .map((r) => ({ label: r[0], bars: libraries.map((lib, i) => ({ name: lib, value: num(r[2 + i]) })).filter((b) => b.value > 0) }));

// Panel 2: the issuer under load, one group per endpoint, one bar per product.
const load = table("## Issuer under load");
const products = load.header.filter((h) => h.endsWith("req/s") && !h.includes("ratio"));
const productColumns = products.map((p) => load.header.indexOf(p));
const loadGroups = load.rows.map((r) => ({ label: r[0], bars: products.map((p, i) => ({ name: p.replace(/ req\/s$/, ""), value: num(r[productColumns[i]]) })).filter((b) => b.value > 0) }));

const COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"];
const escape = (s) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;");
const W = 900;
const LABEL = 90;
const BAR = 14;

function panel(title, unit, groups, y0) {
  const names = [...new Set(groups.flatMap((g) => g.bars.map((b) => b.name)))];
  const values = groups.flatMap((g) => g.bars.map((b) => b.value));
  // The axis spans the decades the figures fill, so ratios show as lengths.
  const low = Math.floor(Math.log10(Math.min(...values)));
  const decades = Math.max(1, Math.ceil(Math.log10(Math.max(...values))) - low);
  const x = (v) => LABEL + ((W - LABEL - 140) * (Math.log10(Math.max(v, 10 ** low)) - low)) / decades;
  let y = y0 + 40;
  let svg = `<text x="10" y="${y0 + 20}" font-size="16" font-weight="bold">${escape(title)}</text>`;
  for (let d = low; d <= low + decades; d++) {
    svg += `<line x1="${x(10 ** d)}" x2="${x(10 ** d)}" y1="${y}" y2="${y + groups.reduce((n, g) => n + g.bars.length * BAR + 12, 0)}" stroke="#ddd"/>`;
    svg += `<text x="${x(10 ** d)}" y="${y - 4}" font-size="10" text-anchor="middle" fill="#666">${(10 ** d).toLocaleString("en-US")}</text>`;
  }
  for (const g of groups) {
    svg += `<text x="10" y="${y + (g.bars.length * BAR) / 2 + 4}" font-size="12">${escape(g.label)}</text>`;
    for (const b of g.bars) {
      const color = COLORS[names.indexOf(b.name) % COLORS.length];
      svg += `<rect x="${LABEL}" y="${y}" width="${Math.max(1, x(b.value) - LABEL)}" height="${BAR - 2}" fill="${color}"/>`;
      svg += `<text x="${x(b.value) + 4}" y="${y + BAR - 4}" font-size="10">${Math.round(b.value).toLocaleString("en-US")}</text>`;
      y += BAR;
    }
    y += 12;
  }
  // The legend.
  names.forEach((n, i) => {
    svg += `<rect x="${LABEL + (i % 3) * 260}" y="${y + 4 + Math.floor(i / 3) * 16}" width="10" height="10" fill="${COLORS[i % COLORS.length]}"/>`;
    svg += `<text x="${LABEL + (i % 3) * 260 + 14}" y="${y + 13 + Math.floor(i / 3) * 16}" font-size="11">${escape(n)}</text>`;
  });
  svg += `<text x="${W - 10}" y="${y0 + 20}" font-size="11" text-anchor="end" fill="#666">${escape(unit)}, log scale</text>`;
  return { svg, height: y + 16 * Math.ceil(names.length / 3) + 20 - y0 };
}

const measured = (markdown.match(/^Measured .*$/m) ?? [""])[0];
const a = panel("Verify in Node, sequential", "ops/s", verifyGroups, 30);
const b = panel("Issuer under load (wrk, loopback)", "req/s", loadGroups, 30 + a.height);
const height = 30 + a.height + b.height;
const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="10" y="18" font-size="11" fill="#666">${escape(measured)} Made by bench/chart.mjs from bench/RESULTS.md.</text>
${a.svg}
${b.svg}
</svg>
`;
writeFileSync(output, svg);
console.error(`wrote ${output}`);
