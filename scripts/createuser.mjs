#!/usr/bin/env node
// Creates (or updates) an issuer user in D1 — the operator's `createsuperuser`.
//
//   node scripts/createuser.mjs --local|--remote USERNAME [--password PW] [--email E]
//        [--id N] [--inactive] [--staff] [--superuser] [--claims '{"roles":["admin"]}']
//
// The password comes from --password, else $EDGEJWT_PASSWORD, else a prompt. It is hashed
// here in Django's pbkdf2_sha256 format (node:crypto) at PASSWORD_HASH_ITERATIONS
// (default 100000, the issuer's default) and only the hash reaches D1, via
// `wrangler d1 execute DB`.
import { execFileSync } from "node:child_process";
import { pbkdf2Sync, randomInt } from "node:crypto";
import { createInterface } from "node:readline/promises";
import { parseArgs } from "node:util";

const { values: o, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    local: { type: "boolean" }, remote: { type: "boolean" }, password: { type: "string" },
    email: { type: "string", default: "" }, id: { type: "string" }, inactive: { type: "boolean" },
    staff: { type: "boolean" }, superuser: { type: "boolean" }, claims: { type: "string", default: "{}" },
    "persist-to": { type: "string" },
  },
});
const [username] = positionals;
if (!username || o.local === o.remote) {
  console.error("usage: createuser.mjs --local|--remote USERNAME [--password PW] [--email E] [--id N] [--inactive] [--staff] [--superuser] [--claims JSON]");
  process.exit(2);
}
JSON.parse(o.claims);

let password = o.password ?? process.env.EDGEJWT_PASSWORD;
if (!password) {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  password = await rl.question(`Password for ${username}: `);
  rl.close();
}
if (!password) throw new Error("empty password");

const iterations = Number(process.env.PASSWORD_HASH_ITERATIONS ?? 100_000);
const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const salt = Array.from({ length: 22 }, () => alphabet[randomInt(alphabet.length)]).join("");
const hash = pbkdf2Sync(password, salt, iterations, 32, "sha256").toString("base64");
const encoded = `pbkdf2_sha256$${iterations}$${salt}$${hash}`;

const q = (s) => `'${String(s).replaceAll("'", "''")}'`;
const cols = ["username", "password", "email", "is_active", "is_staff", "is_superuser", "claims"];
const vals = [q(username), q(encoded), q(o.email), o.inactive ? 0 : 1, o.staff ? 1 : 0, o.superuser ? 1 : 0, q(o.claims)];
if (o.id) { cols.unshift("id"); vals.unshift(Number(o.id)); }
const sql =
  `INSERT INTO users (${cols.join(", ")}) VALUES (${vals.join(", ")}) ` +
  `ON CONFLICT (username) DO UPDATE SET password = excluded.password, email = excluded.email, ` +
  `is_active = excluded.is_active, is_staff = excluded.is_staff, is_superuser = excluded.is_superuser, claims = excluded.claims`;
const args = ["wrangler", "d1", "execute", "DB", o.local ? "--local" : "--remote", "--command", sql];
if (o["persist-to"]) args.push("--persist-to", o["persist-to"]);
execFileSync("npx", args, { stdio: ["ignore", "ignore", "inherit"] });
console.error(`user ${username} saved (${o.local ? "local" : "remote"} D1)`);
