#!/usr/bin/env node
// The targets of the performance issue, read back from the tables bench/run.sh just wrote:
// one table, each figure from this run, with whether it is met. bench/run.sh puts it at the
// top of RESULTS.md and the README copies it. Reads only RESULTS.md, so it can be run again
// on a committed table.
//
//   node bench/targets.mjs [bench/RESULTS.md]
import { readFileSync } from "node:fs";
import { num, table as tableIn } from "./tables.mjs";

const input = process.argv[2] ?? new URL("RESULTS.md", import.meta.url).pathname;
const markdown = readFileSync(input, "utf8");

/** The first table after `marker`, as objects keyed by header cell. */
function table(marker) {
  const found = tableIn(markdown, marker);
  return found ? found.rows.map((cells) => Object.fromEntries(found.header.map((h, i) => [h, cells[i]]))) : [];
}
const x = (v) => (Number.isFinite(v) ? `${v.toFixed(2)}×` : "n/a");
const rows = [];
/** `measured` a number (NaN: not measured in this run), `target` what meets it. */
function target(name, measured, text, met) {
  const status = !Number.isFinite(measured) ? "not measured" : met(measured) ? "met" : "missed";
  rows.push(`| ${name} | ${text} | ${status} |`);
}

const node = table("## Verify in Node");
const nodeRow = (alg, mode) => node.find((r) => r.alg === alg && r.mode === mode) ?? {};
const hsSeq = nodeRow("HS256", "sequential");
const verifierGzip = table("## Size and cold start").find((r) => r.artefact?.includes("verifier `.wasm`"))?.["gzip -9"];
target("verifier `.wasm`, gzip ≤ 64 KiB", num(verifierGzip), verifierGzip ?? "n/a", (v) => v <= 64);
const cold = num((markdown.match(/fresh processes: \*\*([\d.]+) ms\*\*/) ?? [])[1]);
target("Node cold start (compile + instantiate) ≤ 2 ms", cold, Number.isFinite(cold) ? `${cold} ms` : "n/a", (v) => v <= 2);
const byHand = num(hsSeq["node:crypto by hand"]) > 0 ? num(hsSeq.edgejwt) / num(hsSeq["node:crypto by hand"]) : NaN;
target("HS256 verify in Node ≥ 1.0× node:crypto HMAC + `JSON.parse` by hand", byHand, x(byHand), (v) => v >= 1);
const hsJose = num(hsSeq.edgejwt) / num(hsSeq.jose);
target("HS256 verify in Node ≥ 15× jose", hsJose, x(hsJose), (v) => v >= 15);
for (const alg of ["EdDSA", "ES256", "RS256"]) {
  // Met or missed by the default (node:crypto: RS on the event loop, EdDSA/ES on libuv's
  // thread pool); an option that does better is named with its figure: all on the event loop
  // (`"sync"`), all on the pool (`"pool"`) or WebCrypto.
  const modes = ["sequential", "concurrent"].map((mode) => {
    const r = nodeRow(alg, mode);
    const jose = num(r.jose);
    const [name, best] = [
      ['`nodeCrypto: "sync"`', num(r["edgejwt (sync)"])],
      ['`nodeCrypto: "pool"`', num(r["edgejwt (pool)"])],
      ["`nodeCrypto: false`", num(r["edgejwt (WebCrypto)"])],
    ].reduce((a, b) => (b[1] > a[1] ? b : a));
    const ratio = num(r.edgejwt) / jose;
    return { ratio, text: `${x(ratio)}${best > num(r.edgejwt) ? ` (${x(best / jose)} with ${name})` : ""}` };
  });
  target(`${alg} vs jose ≥ 1×, sequential / concurrent`, Math.min(...modes.map((m) => m.ratio)), modes.map((m) => m.text).join(" / "), (v) => v >= 1);
}
const workerd = num(table("## Verify inside workerd").find((r) => r.library === "edgejwt / jose")?.["ops/s in workerd"]);
target("HS256 verify in workerd ≥ 5× jose", workerd, x(workerd), (v) => v >= 5);
const login = table("## Login's CPU").find((r) => r.PBKDF2?.startsWith("native"));
const loginMs = num(login?.["successful: CPU"]);
target("login CPU in workerd ≤ 50 ms at ≥ 100,000 PBKDF2 iterations", loginMs, Number.isFinite(loginMs) ? `${loginMs} ms` : "n/a", (v) => v <= 50);

const floors = table("Floors in the same workerd");
const floorOf = (label) => num(floors.find((r) => r.request.startsWith(label))?.["req/s"]);
const floor = floorOf("the issuer's 404 (") / floorOf("an empty JS Worker");
target("issuer's floor (its 404) ≥ 0.85× an empty JS Worker", floor, x(floor), (v) => v >= 0.85);
const load = table("## Issuer under load");
const ref = (ep) => num(load.find((r) => r.endpoint === ep)?.["edgejwt / simplejwt"]);
const stateless = ref("protected (stateless)");
target("`/api/protected/` ≥ 3× the simplejwt reference (stateless user)", stateless, `${x(stateless)} (default, user read from D1: ${x(ref("protected"))})`, (v) => v >= 3);
target("`/api/token/verify/` ≥ 4× the reference", ref("verify"), x(ref("verify")), (v) => v >= 4);
target("`/api/token/refresh/` ≥ 4× the reference", ref("refresh"), x(ref("refresh")), (v) => v >= 4);

console.log("| target | this run | status |");
console.log("|---|---:|---|");
for (const row of rows) console.log(row);
