// Reads the Prometheus text exposition format (GET /metrics) into samples.

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** [{name, labels: {k: v}, value}] of every sample line. */
export function parseMetrics(text) {
  const samples = [];
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const m = LINE.exec(line);
    if (!m) continue;
    const labels = {};
    for (const l of (m[2] || "").matchAll(LABEL)) {
      labels[l[1]] = l[2].replace(/\\n/g, "\n").replace(/\\"/g, '"').replace(/\\\\/g, "\\");
    }
    const value = Number(m[3]);
    if (!Number.isNaN(value)) samples.push({ name: m[1], labels, value });
  }
  return samples;
}

/** Sum of the samples named ``name`` whose labels match ``where``, grouped by ``by`` (a label). */
export function sumBy(samples, name, by, where = {}) {
  const out = new Map();
  for (const s of samples) {
    if (s.name !== name) continue;
    if (Object.entries(where).some(([k, v]) => s.labels[k] !== v)) continue;
    const key = by ? s.labels[by] ?? "" : "";
    out.set(key, (out.get(key) || 0) + s.value);
  }
  return out;
}

export function total(samples, name, where = {}) {
  return sumBy(samples, name, null, where).get("") || 0;
}
