// The packed package in Deno (the npm package `deno`, scripts/ensure-runtimes.sh).
import { join } from "node:path";
import { describe } from "node:test";
import { runtimeSuite } from "./other-runtimes.mjs";

describe("Deno", () => runtimeSuite("Deno", (bin, file) => [join(bin, "deno"), "run", "--allow-all", "--quiet", file]));
