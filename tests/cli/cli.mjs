// Runs the built `edgejwt` CLI (target/debug/edgejwt, or $EDGEJWT_CLI) with wrangler from
// node_modules, against local D1/KV state in a directory the test owns. Shared by tests/cli.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const FIXTURES = `${ROOT}crates/cli/tests/fixtures/django/`;
const TARGET = process.env.CARGO_TARGET_DIR ?? `${ROOT}target`;
export const CLI = process.env.EDGEJWT_CLI ?? `${TARGET}/debug/edgejwt`;
const WRANGLER = `${ROOT}node_modules/.bin/wrangler`;

if (!existsSync(CLI)) throw new Error(`${CLI} is missing: cargo build -p edgejwt-cli (or set EDGEJWT_CLI)`);

/** Runs the CLI; resolves `{code, stdout, stderr}` whatever the exit code. */
export function edgejwt(args, { input, env = {} } = {}) {
  return new Promise((resolve) => {
    const child = execFile(
      CLI,
      args,
      {
        cwd: ROOT,
        env: { ...process.env, EDGEJWT_WRANGLER: WRANGLER, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", ...env },
        maxBuffer: 16 << 20,
      },
      (error, stdout, stderr) => resolve({ code: error ? error.code ?? 1 : 0, stdout, stderr }),
    );
    if (input !== undefined) child.stdin.end(input);
    else child.stdin.end();
  });
}

/** As `edgejwt`, failing the test on a non-zero exit (with the CLI's output). */
export async function ok(args, options) {
  const r = await edgejwt(args, options);
  if (r.code !== 0) throw new Error(`edgejwt ${args.join(" ")} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
  return r;
}
