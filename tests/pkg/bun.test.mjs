// The packed package in Bun (the npm package `bun`, scripts/ensure-runtimes.sh).
import { join } from "node:path";
import { describe } from "node:test";
import { runtimeSuite } from "./other-runtimes.mjs";

describe("Bun", () => runtimeSuite("Bun", (bin, file) => [join(bin, "bun"), file]));
