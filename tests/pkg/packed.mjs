// Installs the result of `npm pack pkg` into a fresh project, so the tests import the
// package exactly as users do (a broken `exports` map or `files` list fails here).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MODULE_RULES } from "../worker/harness.mjs";

const ROOT = new URL("../../", import.meta.url).pathname;

/** The version of a devDependency of the repository (e.g. hono), installed from npm's cache. */
export function devVersion(name) {
  return JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).devDependencies[name];
}

/** `npm pack` of `from` into `dir`: the tarball's path. */
function pack(from, dir) {
  const out = execFileSync("npm", ["pack", from, "--pack-destination", dir, "--ignore-scripts", "--silent"], { stdio: ["ignore", "pipe", "inherit"] });
  return join(dir, out.toString().trim().split("\n").pop());
}

/**
 * A temp project with the packed package installed; returns its directory. `peers` are
 * devDependencies of the repository installed next to it (edgejwt/hono needs hono), packed
 * from the copy `npm ci` installed from the lockfile: a fresh machine's npm cache holds that
 * tarball but not the registry's metadata an `npm install hono@<version> --offline` needs.
 */
export function installPacked({ peers = [] } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "edgejwt-consumer-"));
  const tarballs = [pack(join(ROOT, "pkg"), dir)];
  for (const peer of peers) {
    const installed = JSON.parse(readFileSync(join(ROOT, "node_modules", peer, "package.json"), "utf8")).version;
    if (installed !== devVersion(peer)) throw new Error(`${peer} ${installed} in node_modules, ${devVersion(peer)} in package.json: run npm ci`);
    tarballs.push(pack(join(ROOT, "node_modules", peer), dir));
  }
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
  execFileSync("npm", ["install", "--no-audit", "--no-fund", "--offline", "--loglevel=error", ...tarballs], { cwd: dir, stdio: ["ignore", "ignore", "inherit"] });
  // Resolution happens from inside the consumer project, with Node's own conditions.
  writeFileSync(join(dir, "entry.mjs"), 'export * from "edgejwt";\n');
  return dir;
}

/**
 * Bundles `main` of the consumer project `dir` with wrangler (`deploy --dry-run`), as a user's
 * deploy would, into a Miniflare Worker named `name`; `extra` adds its bindings.
 */
export function bundledWorker(dir, name, main, extra = {}) {
  writeFileSync(join(dir, `wrangler.${name}.toml`), `name = "${name}"\nmain = "${main}"\ncompatibility_date = "2025-06-01"\n`);
  execFileSync("node", [join(ROOT, "node_modules/wrangler/bin/wrangler.js"), "deploy", "--dry-run", "--config", `wrangler.${name}.toml`, "--outdir", `dist-${name}`], {
    cwd: dir,
    stdio: ["ignore", "ignore", "inherit"],
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
  });
  const out = join(dir, `dist-${name}`);
  const script = readdirSync(out).find((f) => f.endsWith(".js"));
  return { name, modules: true, scriptPath: join(out, script), modulesRoot: out, modulesRules: MODULE_RULES, compatibilityDate: "2025-06-01", ...extra };
}
