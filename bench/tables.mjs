// Reading back the markdown tables bench/run.sh writes (bench/targets.mjs, bench/chart.mjs).

/** The first markdown table after `marker` (a heading or any text) in `markdown`: its header cells and rows of cells; null when `marker` is absent. */
export function table(markdown, marker) {
  const start = markdown.indexOf(marker);
  if (start < 0) return null;
  const lines = markdown.slice(start).split("\n");
  const rows = [];
  for (const line of lines.slice(lines.findIndex((l) => l.startsWith("|")))) {
    if (!line.startsWith("|")) break;
    rows.push(line.slice(1, -1).split("|").map((c) => c.trim()));
  }
  return { header: rows[0], rows: rows.slice(2) };
}

/** The number a cell starts with ("1,234 (3 non-2xx)", "3.14×", "6.9 ms", "113.6 KiB"); NaN for an empty cell or "n/a". */
export function num(cell) {
  const text = String(cell ?? "").replace(/[,×]/g, "").replace(/\s*(ms|KiB)$/, "").split(" ")[0];
  return text === "" ? NaN : Number(text);
}
