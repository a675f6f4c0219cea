// The operations page (admins): live queue charts, stage pause/resume, metrics, dead letters.

import { api, ApiError } from "./api.js";
import { LineChart, formatCount } from "./chart.js";
import { $, h, formatSeconds, formatTime } from "./dom.js";
import { parseMetrics, sumBy, total } from "./prom.js";

const POLL_MS = 2000;
const RATE_WINDOW_MS = 60_000;
const STAGES = ["extract", "analyze", "index", "aggregate"];
const LANE_COLORS = { high: "#d6336c", normal: "#1c7ed6", low: "#37b24d", "": "#7048e8" };
const PALETTE = ["#1c7ed6", "#d6336c", "#37b24d", "#f08c00", "#7048e8", "#0ca678"];

function laneOf(topic) {
  return topic.lane || "";
}

export class AdminPage {
  constructor({ announce }) {
    this.announce = announce;
    this.timer = null;
    this.charts = new Map(); // stage -> LineChart
    this.metricsChart = null;
    this.history = []; // [{t, samples}] of the last RATE_WINDOW_MS: rates are taken over it
    this.busy = new Set();
    $("#dlq-stage").addEventListener("change", () => this.loadDlq());
    window.addEventListener("resize", () => this.drawAll());
  }

  start() {
    if (this.timer) return;
    this.tick();
    this.loadDlq();
    this.timer = setInterval(() => this.tick(), POLL_MS);
  }

  stop() {
    clearInterval(this.timer);
    this.timer = null;
  }

  reset() {
    this.stop();
    this.charts.clear();
    this.metricsChart = null;
    this.history = [];
    this.perMin = null;
    $("#charts").replaceChildren();
    $("#metrics-chart").replaceChildren();
    $("#metrics").replaceChildren();
    $("#stage-controls").replaceChildren();
    $("#queues tbody").replaceChildren();
    $("#dlq tbody").replaceChildren();
    this.dlqKey = null;
  }

  async tick() {
    this.ticks = (this.ticks || 0) + 1;
    // Dead letters change rarely: every fifth poll (10 s) is enough.
    const dlq = this.ticks % 5 === 0 ? this.loadDlq() : null;
    await Promise.all([this.pollQueues(), this.pollMetrics(), dlq]);
    this.drawAll();
  }

  drawAll() {
    const now = Date.now();
    for (const chart of this.charts.values()) chart.draw(now);
    if (this.metricsChart) this.metricsChart.draw(now);
  }

  async pollQueues() {
    let body;
    try {
      body = await api("/admin/queues");
    } catch (err) {
      this.renderUnavailable(err);
      return;
    }
    $("#admin-error").textContent = "";
    $("#admin-mode").textContent = body.mode ? `${body.mode} mode` : "";
    const t = Date.now();
    this.renderStages(body.groups);
    const rows = [];
    for (const group of body.groups) {
      const chart = this.chartFor(group.stage);
      for (const topic of group.topics) {
        const lane = laneOf(topic);
        const name = lane || topic.topic;
        const color = LANE_COLORS[lane] ?? LANE_COLORS[""];
        chart.add(`${topic.topic}:depth`, { label: `${name} depth`, color }, t, topic.depth ?? 0);
        chart.add(`${topic.topic}:lag`, { label: `${name} lag`, color, dashed: true }, t, topic.lag ?? 0);
        rows.push(h("tr", { dataset: { stage: group.stage, topic: topic.topic, lane } },
          h("th", { scope: "row" }, group.stage, group.paused ? h("span", { class: "badge", dataset: { status: "paused" } }, " paused") : null),
          h("td", {}, topic.topic), h("td", {}, lane || "–"),
          h("td", { class: "num depth" }, formatCount(topic.depth ?? 0)),
          h("td", { class: "num lag" }, formatCount(topic.lag ?? 0)),
          h("td", { class: "num" }, formatCount(topic.in_flight ?? 0)),
          h("td", { class: "num" }, formatSeconds(topic.oldest_waiting_s)),
          h("td", { class: "num" }, formatCount(topic.per_min ?? 0))));
      }
      const depth = group.topics.reduce((n, x) => n + (x.depth ?? 0), 0);
      chart.figure.dataset.depth = String(depth);
    }
    $("#queues tbody").replaceChildren(...rows);
    // Throughput per stage from the queue API: it counts every member, in every process,
    // where this gateway's /metrics counts only what runs inside it.
    this.perMin = new Map();
    for (const group of body.groups) {
      const n = group.topics.reduce((sum, x) => sum + (x.per_min ?? 0), 0);
      this.perMin.set(group.stage, (this.perMin.get(group.stage) || 0) + n);
    }
    const chart = this.throughputChart();
    [...this.perMin].forEach(([stage, n], i) => chart.add(stage, { label: stage, color: PALETTE[i % PALETTE.length] }, t, n));
  }

  throughputChart() {
    if (!this.metricsChart) this.metricsChart = new LineChart($("#metrics-chart"), "Records per minute, by stage");
    return this.metricsChart;
  }

  renderUnavailable(err) {
    const text = err instanceof ApiError && err.status === 404
      ? "The queue API is not available on this server yet; charts and stage controls are off."
      : err instanceof ApiError && err.status === 403
        ? "This page needs the admin role."
        : `Could not read the queues: ${err.detail || err.message}`;
    $("#admin-error").textContent = text;
  }

  chartFor(stage) {
    let chart = this.charts.get(stage);
    if (!chart) {
      chart = new LineChart($("#charts"), stage.charAt(0).toUpperCase() + stage.slice(1));
      chart.figure.dataset.stage = stage;
      this.charts.set(stage, chart);
      // Keep the charts in pipeline order whatever order the groups arrive in.
      const order = (s) => (STAGES.indexOf(s) + 1 || 99);
      const figures = [...$("#charts").children].sort((a, b) => order(a.dataset.stage) - order(b.dataset.stage));
      $("#charts").append(...figures);
    }
    return chart;
  }

  renderStages(groups) {
    const list = $("#stage-controls");
    const known = new Map([...list.children].map((li) => [li.dataset.stage, li]));
    const seen = new Set();
    for (const group of groups) {
      if (seen.has(group.stage)) continue;
      seen.add(group.stage);
      let li = known.get(group.stage);
      if (!li) {
        const button = h("button", { type: "button", class: "secondary" });
        button.addEventListener("click", () => this.toggle(group.stage, li.dataset.paused !== "true"));
        li = h("li", { dataset: { stage: group.stage } },
          h("span", { class: "stage-name" }, group.stage), h("span", { class: "badge" }), button);
        list.append(li);
      }
      const paused = groups.filter((g) => g.stage === group.stage).some((g) => g.paused);
      li.dataset.paused = String(paused);
      const badge = $(".badge", li);
      badge.textContent = paused ? "Paused" : "Running";
      badge.dataset.status = paused ? "paused" : "running";
      const button = $("button", li);
      if (!this.busy.has(group.stage)) {
        button.textContent = paused ? `Resume ${group.stage}` : `Pause ${group.stage}`;
        button.setAttribute("aria-pressed", String(paused));
      }
    }
  }

  async toggle(stage, pause) {
    const li = $(`#stage-controls li[data-stage="${stage}"]`);
    const button = li && $("button", li);
    this.busy.add(stage);
    if (button) button.disabled = true;
    try {
      const body = await api(`/admin/stages/${encodeURIComponent(stage)}/${pause ? "pause" : "resume"}`, { method: "POST" });
      this.announce(`${stage} ${body.paused ? "paused" : "resumed"}`);
      if (li) {
        li.dataset.paused = String(body.paused);
        $(".badge", li).textContent = body.paused ? "Paused" : "Running";
        $(".badge", li).dataset.status = body.paused ? "paused" : "running";
        button.textContent = body.paused ? `Resume ${stage}` : `Pause ${stage}`;
        button.setAttribute("aria-pressed", String(body.paused));
      }
    } catch (err) {
      $("#admin-error").textContent = `Could not ${pause ? "pause" : "resume"} ${stage}: ${err.detail || err.message}`;
    } finally {
      this.busy.delete(stage);
      if (button) {
        button.disabled = false;
        button.focus();
      }
    }
  }

  async pollMetrics() {
    let text;
    try {
      text = await api("/metrics");
    } catch {
      return;
    }
    const t = Date.now();
    const samples = parseMetrics(text);
    // Rates over the last minute (or what was seen of it), not one 2 s poll: steadier.
    while (this.history.length && this.history[0].t < t - RATE_WINDOW_MS) this.history.shift();
    const prev = this.history[0];
    this.history.push({ t, samples });
    const events = sumBy(samples, "doclane_stage_events_total", "stage", { outcome: "ok" });
    const aiCalls = sumBy(samples, "doclane_ai_calls_total", "outcome");
    const waits = total(samples, "doclane_ai_limit_wait_seconds_count");
    const waitSum = total(samples, "doclane_ai_limit_wait_seconds_sum");
    const perMin = (now, before) => (prev ? Math.max(0, ((now - before) * 60_000) / (t - prev.t)) : 0);
    const prevEvents = prev ? sumBy(prev.samples, "doclane_stage_events_total", "stage", { outcome: "ok" }) : new Map();
    const items = [];
    const add = (term, value) => items.push(h("div", {}, h("dt", {}, term), h("dd", {}, value)));
    const stages = this.perMin ? [...this.perMin.keys()] : STAGES;
    for (const stage of stages) {
      const n = events.get(stage) || 0;
      const rate = this.perMin ? this.perMin.get(stage) : perMin(n, prevEvents.get(stage) || 0);
      add(`${stage}`, `${formatCount(rate)}/min`);
    }
    const calls = [...aiCalls.values()].reduce((a, b) => a + b, 0);
    const failedCalls = calls - (aiCalls.get("ok") || 0);
    add("AI calls", `${formatCount(calls)}${failedCalls ? ` (${formatCount(failedCalls)} failed)` : ""}`);
    add("Rate-limit waits", `${formatCount(waits)}${waits ? ` · mean ${formatSeconds(waitSum / waits)}` : ""}`);
    add("Uploads", formatCount(total(samples, "doclane_uploads_total", { outcome: "accepted" })));
    $("#metrics").replaceChildren(...items);
    if (prev) {
      const aiPrev = total(prev.samples, "doclane_ai_calls_total");
      this.throughputChart().add("ai", { label: "AI calls (this process)", color: "#868e96", dashed: true }, t,
        perMin(calls, aiPrev));
    }
  }

  async loadDlq() {
    const stage = $("#dlq-stage").value;
    let body;
    try {
      body = await api(`/admin/dlq${stage ? `?stage=${encodeURIComponent(stage)}` : ""}`);
    } catch (err) {
      $("#dlq-empty").textContent = err instanceof ApiError && err.status === 404
        ? "Dead letters are not available on this server yet."
        : `Could not read the dead letters: ${err.detail || err.message}`;
      $("#dlq-empty").hidden = false;
      return;
    }
    $("#dlq-empty").textContent = "No dead letters.";
    $("#dlq-empty").hidden = body.items.length > 0;
    // Rebuilt only when something changed, so a focused Redrive button keeps its focus.
    const key = JSON.stringify(body.items);
    if (key === this.dlqKey) return;
    this.dlqKey = key;
    $("#dlq tbody").replaceChildren(...body.items.map((item) => {
      const button = h("button", { type: "button", class: "secondary", disabled: item.redriven },
        item.redriven ? "Redriven" : "Redrive");
      button.setAttribute("aria-label", `Redrive dead letter ${item.id}`);
      button.addEventListener("click", () => this.redrive(item, button));
      return h("tr", { dataset: { id: item.id } },
        h("td", {}, h("time", { datetime: item.failed_at }, formatTime(item.failed_at))),
        h("td", {}, item.stage),
        h("td", {}, item.document_id ? h("code", {}, item.document_id) : "–"),
        h("td", { class: "wrap" }, item.error, item.category ? h("span", { class: "note" }, ` (${item.category})`) : null),
        h("td", { class: "num" }, String(item.attempts)),
        h("td", {}, button));
    }));
  }

  async redrive(item, button) {
    button.disabled = true;
    try {
      await api(`/admin/dlq/${encodeURIComponent(item.id)}/redrive`, { method: "POST" });
      button.textContent = "Redriven";
      this.announce(`Dead letter ${item.id} sent back to ${item.stage}`);
      await this.loadDlq();
    } catch (err) {
      button.disabled = false;
      $("#admin-error").textContent = `Could not redrive: ${err.detail || err.message}`;
    }
  }
}
