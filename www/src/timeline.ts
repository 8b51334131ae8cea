// The demo's timeline, drawn: each access token as a bar from its `iat` to its `exp` (cut
// short where the session ended), one row per token, newest at the bottom, and what happened
// marked over them: logins, refreshes, rotations of the refresh token, grace-window retries of
// a refresh whose answer was lost, revocations and logouts. Plain SVG, redrawn every tick.

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 720;
const LEFT = 8;
const RIGHT = 8;
const LANE = 11; // the marks' symbols, one lane per kind above the bars
const TOP = 3 * LANE + 6;
const ROW = 16;
const AXIS = 18;
const MAX_ROWS = 8;
const MIN_SPAN_MS = 20_000;

export type MarkKind = "login" | "refresh" | "rotation" | "retry" | "revoked" | "logout" | "failure";

interface Bar {
  jti: string;
  from: number; // ms
  to: number; // ms (exp)
  ended: number | null; // ms: the session ended before exp
}

interface Mark {
  at: number;
  kind: MarkKind;
  label: string;
}

// Which lane a kind's symbol sits in, so that a refresh and its rotation do not overlap.
const LANE_OF: Record<MarkKind, number> = { login: 0, refresh: 0, revoked: 0, logout: 0, failure: 0, rotation: 1, retry: 2 };

const SYMBOL: Record<MarkKind, string> = {
  login: "●",
  refresh: "↻",
  rotation: "◆",
  retry: "▲",
  revoked: "✕",
  logout: "■",
  failure: "!",
};

function el<K extends keyof SVGElementTagNameMap>(name: K, attrs: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

export class Timeline {
  readonly #svg: SVGSVGElement;
  #bars: Bar[] = [];
  #marks: Mark[] = [];

  constructor(svg: SVGSVGElement) {
    this.#svg = svg;
  }

  /** A new access token (claims `jti`, `iat`, `exp` in seconds). */
  token(jti: string, iat: number, exp: number): void {
    if (this.#bars.some((b) => b.jti === jti)) return;
    this.#bars.push({ jti, from: iat * 1000, to: exp * 1000, ended: null });
    this.#bars = this.#bars.slice(-MAX_ROWS);
  }

  mark(kind: MarkKind, label: string, at = Date.now()): void {
    this.#marks.push({ at, kind, label });
    this.#marks = this.#marks.slice(-60);
    if (kind === "revoked" || kind === "logout" || kind === "failure") {
      for (const bar of this.#bars) if (bar.ended === null && bar.to > at) bar.ended = at;
    }
  }

  draw(now = Date.now()): void {
    const bars = this.#bars;
    const end = Math.max(now + 2_000, ...bars.map((b) => (b.ended ?? b.to) + 1_000));
    const start = Math.min(end - MIN_SPAN_MS, ...bars.map((b) => b.from - 1_000));
    const x = (t: number) => LEFT + ((t - start) / (end - start)) * (WIDTH - LEFT - RIGHT);
    const height = TOP + Math.max(1, bars.length) * ROW + AXIS;
    const nodes: SVGElement[] = [];

    // Axis: seconds from now.
    const step = niceStep((end - start) / 1000 / 6) * 1000;
    for (let t = Math.ceil(start / step) * step; t <= end; t += step) {
      const gx = x(t);
      if (gx < LEFT + 12 || gx > WIDTH - RIGHT - 12) continue; // a label there would be cut off
      nodes.push(el("line", { x1: gx, x2: gx, y1: TOP - 4, y2: height - AXIS + 2, class: "grid" }));
      const rel = Math.round((t - now) / 1000);
      nodes.push(el("text", { x: gx, y: height - 4, class: "tick", "text-anchor": "middle" }, rel === 0 ? "now" : `${rel > 0 ? "+" : ""}${rel} s`));
    }

    // One bar per access token; the part after the session ended is drawn as dead.
    bars.forEach((bar, row) => {
      const y = TOP + row * ROW + 2;
      const cut = bar.ended ?? bar.to;
      const live = el("rect", { x: x(bar.from), y, width: Math.max(1, x(cut) - x(bar.from)), height: ROW - 4, rx: 2, class: "access", "data-jti": bar.jti });
      live.append(el("title", {}, `access ${bar.jti.slice(0, 8)}: ${time(bar.from)} → ${time(bar.to)}${bar.ended ? ` (session ended ${time(bar.ended)})` : ""}`));
      nodes.push(live);
      if (bar.ended !== null) nodes.push(el("rect", { x: x(cut), y, width: Math.max(0, x(bar.to) - x(cut)), height: ROW - 4, rx: 2, class: "access dead" }));
      if (now < bar.to && now > bar.from && bar.ended === null) nodes.push(el("rect", { x: x(bar.from), y, width: Math.max(1, x(now) - x(bar.from)), height: ROW - 4, rx: 2, class: "access spent" }));
    });

    // Marks: a symbol in the top lane and a line down through the bars.
    for (const mark of this.#marks) {
      if (mark.at < start) continue;
      const mx = x(mark.at);
      const g = el("g", { class: `mark ${mark.kind}` });
      g.append(
        el("line", { x1: mx, x2: mx, y1: (LANE_OF[mark.kind] + 1) * LANE, y2: height - AXIS, class: "mark-line" }),
        el("text", { x: mx, y: (LANE_OF[mark.kind] + 1) * LANE - 1, "text-anchor": "middle", class: "mark-symbol" }, SYMBOL[mark.kind]),
        el("title", {}, `${time(mark.at)} ${mark.label}`),
      );
      nodes.push(g);
    }
    nodes.push(el("line", { x1: x(now), x2: x(now), y1: 2, y2: height - AXIS + 2, class: "now" }));

    this.#svg.setAttribute("viewBox", `0 0 ${WIDTH} ${height}`);
    this.#svg.replaceChildren(...nodes);
  }
}

function niceStep(seconds: number): number {
  for (const s of [1, 2, 5, 10, 15, 30, 60, 120, 300, 600]) if (s >= seconds) return s;
  return 1800;
}

function time(ms: number): string {
  return new Date(ms).toLocaleTimeString();
}
