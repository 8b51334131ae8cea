// Installs the result of `npm pack pkg` into a fresh project, so the tests import the
// package exactly as users do (a broken `exports` map or `files` list fails here).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = new URL("../../", import.meta.url).pathname;

/** The version of a devDependency of the repository (e.g. hono), installed from npm's cache. */
export function devVersion(name) {
  return JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).devDependencies[name];
}

/**
 * A temp project with the packed package installed; returns its directory. `peers` are
 * devDependencies of the repository installed next to it (edgejwt/hono needs hono).
 */
export function installPacked({ peers = [] } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "edgejwt-consumer-"));
  execFileSync("npm", ["pack", join(ROOT, "pkg"), "--pack-destination", dir, "--silent"], { stdio: ["ignore", "ignore", "inherit"] });
  const tgz = readdirSync(dir).find((f) => f.endsWith(".tgz"));
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
  execFileSync("npm", ["install", "--no-audit", "--no-fund", "--offline", "--loglevel=error", join(dir, tgz), ...peers.map((p) => `${p}@${devVersion(p)}`)], { cwd: dir, stdio: ["ignore", "ignore", "inherit"] });
  // Resolution happens from inside the consumer project, with Node's own conditions.
  writeFileSync(join(dir, "entry.mjs"), 'export * from "edgejwt";\n');
  return dir;
}
