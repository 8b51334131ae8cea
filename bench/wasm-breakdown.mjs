#!/usr/bin/env node
// Where the verifier's .wasm bytes go: function body sizes from the code section, grouped by
// the crate in each function's name (the name section of a build wasm-bindgen kept names
// in). Generic code is counted under the crate of its outermost type or trait, as rustc
// names it. Prints markdown. Part of bench/run.sh:  node bench/wasm-breakdown.mjs FILE.wasm
import { readFileSync } from "node:fs";

/** A cursor over `bytes` that reads unsigned LEB128 numbers, as wasm encodes sizes. */
function reader(bytes, pos) {
  return {
    get pos() {
      return pos;
    },
    set pos(p) {
      pos = p;
    },
    byte: () => bytes[pos++],
    leb() {
      let result = 0;
      for (let shift = 0; ; shift += 7) {
        const b = bytes[pos++];
        result += (b & 0x7f) * 2 ** shift;
        if (b < 0x80) return result;
      }
    },
  };
}

export function wasmBreakdown(file, top = 14) {
  const bytes = readFileSync(file);
  const module = new WebAssembly.Module(bytes);
  const imported = WebAssembly.Module.imports(module).filter((i) => i.kind === "function").length;
  const r = reader(bytes, 8);
  const sections = {};
  const bodies = [];
  while (r.pos < bytes.length) {
    const id = r.byte();
    const size = r.leb();
    const end = r.pos + size;
    sections[id] = (sections[id] ?? 0) + size;
    if (id === 10) {
      for (let n = r.leb(); n > 0; n--) {
        const start = r.pos;
        const len = r.leb();
        r.pos += len;
        bodies.push(r.pos - start);
      }
    }
    r.pos = end;
  }
  const names = new Map();
  for (const section of WebAssembly.Module.customSections(module, "name")) {
    const b = new Uint8Array(section);
    const n = reader(b, 0);
    while (n.pos < b.length) {
      const sub = n.byte();
      const end = n.leb() + n.pos;
      if (sub === 1) {
        for (let count = n.leb(); count > 0; count--) {
          const index = n.leb();
          const len = n.leb();
          names.set(index, new TextDecoder().decode(b.subarray(n.pos, n.pos + len)));
          n.pos += len;
        }
      }
      n.pos = end;
    }
  }
  const groups = new Map();
  bodies.forEach((size, i) => {
    const name = names.get(i + imported) ?? "?";
    const crate = (name.match(/^[<&*\s]*(?:mut |dyn |const )?([A-Za-z0-9_]+)/) ?? [, "?"])[1];
    const label = crate === "T" ? "`<T as …>` blanket impls" : crate;
    groups.set(label, (groups.get(label) ?? 0) + size);
  });
  const code = bodies.reduce((a, b) => a + b, 0);
  const data = sections[11] ?? 0;
  const kib = (n) => (n / 1024).toFixed(1);
  let md = `Code ${kib(code)} KiB in ${bodies.length} functions, data ${kib(data)} KiB. By crate (function names; rustc's output, before wasm-opt and gzip):\n\n| crate | code KiB | share |\n|---|---:|---:|\n`;
  for (const [crate, size] of [...groups].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    md += `| ${crate} | ${kib(size)} | ${((100 * size) / code).toFixed(1)}% |\n`;
  }
  return md;
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(wasmBreakdown(process.argv[2]));
