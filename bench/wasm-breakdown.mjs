#!/usr/bin/env node
// Where the verifier's .wasm bytes go: function body sizes from the code section, grouped by
// the crate in each function's name (the name section of a build wasm-bindgen kept names
// in). Generic code is counted under the crate of its outermost type or trait, as rustc
// names it. Prints markdown. Part of bench/run.sh:  node bench/wasm-breakdown.mjs FILE.wasm
import { readFileSync } from "node:fs";

export function wasmBreakdown(file, top = 14) {
  const bytes = readFileSync(file);
  const module = new WebAssembly.Module(bytes);
  const imported = WebAssembly.Module.imports(module).filter((i) => i.kind === "function").length;
  let pos = 8;
  const leb = () => {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = bytes[pos++];
      result += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if (b < 0x80) return result;
    }
  };
  const sections = {};
  const bodies = [];
  while (pos < bytes.length) {
    const id = bytes[pos++];
    const size = leb();
    const end = pos + size;
    sections[id] = (sections[id] ?? 0) + size;
    if (id === 10) {
      for (let n = leb(); n > 0; n--) {
        const start = pos;
        const len = leb();
        pos += len;
        bodies.push(pos - start);
      }
    }
    pos = end;
  }
  const names = new Map();
  for (const section of WebAssembly.Module.customSections(module, "name")) {
    const b = new Uint8Array(section);
    let p = 0;
    const l = () => {
      let r = 0;
      let s = 0;
      for (;;) {
        const x = b[p++];
        r += (x & 0x7f) * 2 ** s;
        s += 7;
        if (x < 0x80) return r;
      }
    };
    while (p < b.length) {
      const sub = b[p++];
      const size = l();
      const end = p + size;
      if (sub === 1) {
        for (let n = l(); n > 0; n--) {
          const index = l();
          const len = l();
          names.set(index, new TextDecoder().decode(b.subarray(p, p + len)));
          p += len;
        }
      }
      p = end;
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
  let md = `Code ${kib(code)} KiB in ${bodies.length} functions, data ${kib(data)} KiB. By crate (function names, before gzip):\n\n| crate | code KiB | share |\n|---|---:|---:|\n`;
  for (const [crate, size] of [...groups].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    md += `| ${crate} | ${kib(size)} | ${((100 * size) / code).toFixed(1)}% |\n`;
  }
  return md;
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(wasmBreakdown(process.argv[2]));
