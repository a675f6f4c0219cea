// A small live line chart on <canvas>: time on x, one line per series, a shared y scale.
// The canvas is a picture only (aria-hidden); the numbers are in the tables next to it.

// The x axis spans the time since the first sample, from one minute up to five.
const WINDOW_MS = 5 * 60_000;
const MIN_WINDOW_MS = 60_000;

function css(name, fallback) {
  const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return value || fallback;
}

export class LineChart {
  /**
   * @param {HTMLElement} host where the chart (a title, the canvas, a legend) is added
   * @param {string} title what the chart shows
   */
  constructor(host, title) {
    this.series = new Map(); // key -> {label, color, dashed, points: [[t, v]]}
    this.figure = document.createElement("figure");
    this.figure.className = "chart";
    const caption = document.createElement("figcaption");
    caption.textContent = title;
    this.canvas = document.createElement("canvas");
    this.canvas.setAttribute("aria-hidden", "true");
    this.legend = document.createElement("ul");
    this.legend.className = "legend";
    this.figure.append(caption, this.canvas, this.legend);
    host.append(this.figure);
    this.peak = 0;
  }

  add(key, { label, color, dashed = false }, t, value) {
    let s = this.series.get(key);
    if (!s) {
      s = { label, color, dashed, points: [] };
      this.series.set(key, s);
      this.renderLegend();
    }
    s.points.push([t, value]);
    while (s.points.length && s.points[0][0] < t - WINDOW_MS) s.points.shift();
    this.peak = Math.max(this.peak, value);
    // What the chart shows, for tests and for people inspecting the page.
    this.figure.dataset.peak = String(this.peak);
    this.figure.dataset.points = String(Math.max(...[...this.series.values()].map((x) => x.points.length)));
  }

  /** The newest value of every series added up. */
  latestTotal() {
    let total = 0;
    for (const s of this.series.values()) total += s.points.length ? s.points[s.points.length - 1][1] : 0;
    return total;
  }

  renderLegend() {
    this.legend.replaceChildren(
      ...[...this.series.values()].map((s) => {
        const li = document.createElement("li");
        const swatch = document.createElement("span");
        swatch.className = s.dashed ? "swatch dashed" : "swatch";
        swatch.style.borderColor = s.color; // CSSOM, allowed by the CSP (no style attribute)
        li.append(swatch, document.createTextNode(s.label));
        return li;
      }),
    );
  }

  draw(now = Date.now()) {
    const canvas = this.canvas;
    const ratio = window.devicePixelRatio || 1;
    const width = canvas.clientWidth || 300;
    const height = canvas.clientHeight || 140;
    if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
      canvas.width = Math.round(width * ratio);
      canvas.height = Math.round(height * ratio);
    }
    const ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    const pad = { left: 36, right: 8, top: 8, bottom: 18 };
    const plotW = width - pad.left - pad.right;
    const plotH = height - pad.top - pad.bottom;
    let max = 1;
    for (const s of this.series.values()) for (const [, v] of s.points) max = Math.max(max, v);
    max = niceCeil(max);
    let first = now;
    for (const s of this.series.values()) if (s.points.length) first = Math.min(first, s.points[0][0]);
    const span = Math.min(WINDOW_MS, Math.max(MIN_WINDOW_MS, now - first));
    const ink = css("--muted", "#666");
    const grid = css("--grid", "#ddd");
    ctx.font = "11px system-ui, sans-serif";
    ctx.fillStyle = ink;
    ctx.strokeStyle = grid;
    ctx.lineWidth = 1;
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    for (const f of [0, 0.5, 1]) {
      const y = pad.top + plotH * (1 - f);
      ctx.beginPath();
      ctx.moveTo(pad.left, y + 0.5);
      ctx.lineTo(width - pad.right, y + 0.5);
      ctx.stroke();
      ctx.fillText(formatCount(max * f), pad.left - 4, y);
    }
    ctx.textAlign = "left";
    ctx.textBaseline = "alphabetic";
    const minutes = span / 60_000;
    ctx.fillText(`−${Number.isInteger(minutes) ? minutes : minutes.toFixed(1)} min`, pad.left, height - 4);
    ctx.textAlign = "right";
    ctx.fillText("now", width - pad.right, height - 4);
    const x = (t) => pad.left + plotW * (1 - (now - t) / span);
    const y = (v) => pad.top + plotH * (1 - v / max);
    for (const s of this.series.values()) {
      if (!s.points.length) continue;
      ctx.strokeStyle = s.color;
      ctx.lineWidth = 2;
      ctx.setLineDash(s.dashed ? [5, 4] : []);
      ctx.beginPath();
      s.points.forEach(([t, v], i) => (i ? ctx.lineTo(x(t), y(v)) : ctx.moveTo(x(t), y(v))));
      ctx.stroke();
    }
    ctx.setLineDash([]);
  }
}

function niceCeil(v) {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

export function formatCount(v) {
  if (v >= 1e6) return `${(v / 1e6).toFixed(1)}M`;
  if (v >= 1e4) return `${Math.round(v / 1e3)}k`;
  return Number.isInteger(v) ? String(v) : v.toFixed(1);
}
