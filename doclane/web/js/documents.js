// The documents page: upload, the live list with a progress bar each, search, and one
// document's results and history.

import { api, ApiError, postForm } from "./api.js";
import { $, h, highlighted, formatBytes, formatTime } from "./dom.js";

const RANK = { pending: 0, processing: 1, analyzing: 2, completed: 3, failed: 3 };
const TERMINAL = new Set(["completed", "failed"]);

/** How far along a document is, 0-100, from its status and chunk progress. */
export function percentOf(status, progress) {
  if (status === "completed") return 100;
  if (status === "pending") return 0;
  if (status === "processing") return 5;
  if (progress && progress.total > 0) return Math.min(99, Math.round(10 + (85 * progress.done) / progress.total));
  return 10;
}

function label(status) {
  return status.charAt(0).toUpperCase() + status.slice(1);
}

export class DocumentsPage {
  constructor({ announce }) {
    this.announce = announce;
    this.docs = new Map(); // id -> {record fields..., seq, progress, percent}
    this.rows = new Map(); // id -> <li>
    this.openId = null;
    this.detail = null; // the open document's detail (history, analysis)
    this.filter = "";
    this.bind();
  }

  bind() {
    const input = $("#file-input");
    const zone = $("#dropzone");
    input.addEventListener("change", () => {
      if (input.files.length) this.upload([...input.files]);
      input.value = "";
    });
    const over = (on) => (e) => {
      e.preventDefault();
      zone.dataset.over = String(on);
    };
    zone.addEventListener("dragenter", over(true));
    zone.addEventListener("dragover", over(true));
    zone.addEventListener("dragleave", over(false));
    zone.addEventListener("drop", (e) => {
      e.preventDefault();
      zone.dataset.over = "false";
      const files = [...(e.dataTransfer?.files || [])];
      if (files.length) this.upload(files);
    });
    // A file dropped next to the zone must not navigate away from the page.
    window.addEventListener("dragover", (e) => e.preventDefault());
    window.addEventListener("drop", (e) => e.preventDefault());
    $("#search-form").addEventListener("submit", (e) => {
      e.preventDefault();
      this.search($("#search-q").value);
    });
    $("#status-filter").addEventListener("change", (e) => {
      this.filter = e.target.value;
      this.renderList();
    });
    $("#detail-delete").addEventListener("click", () => this.confirmDelete());
    $("#detail-retry").addEventListener("click", () => this.retry());
    $("#detail-audit-box").addEventListener("toggle", (e) => {
      if (e.target.open && this.openId) this.loadAudit(this.openId);
    });
  }

  reset() {
    this.docs.clear();
    this.rows.clear();
    $("#doc-list").replaceChildren();
    $("#upload-log").replaceChildren();
    $("#search-results").replaceChildren();
    $("#search-status").textContent = "";
    this.openId = null;
    this.renderList();
  }

  // --- the list ---------------------------------------------------------------------------

  /** Loads the list, then the live status of every document still in progress. */
  async refresh() {
    const started = performance.now();
    const body = await api("/documents?limit=200");
    for (const record of body.items) this.applyRecord(record);
    // Gone from the list (deleted in another tab or by the CLI): drop it here too. Only a
    // document known before the list was asked for (not one uploaded while it loaded), and
    // only within the span of a full list.
    const ids = new Set(body.items.map((d) => d.id));
    const oldest = body.items.length < body.limit ? "" : body.items.map((d) => d.created_at).sort()[0];
    for (const [id, doc] of [...this.docs]) {
      if (!ids.has(id) && doc.knownSince < started && (doc.created_at || "") >= oldest) this.remove(id);
    }
    const open = [...this.docs.values()].filter((d) => !TERMINAL.has(d.status)).slice(0, 50);
    await Promise.all(open.map((d) => this.refreshStatus(d.id)));
    this.renderList();
  }

  async refreshStatus(id) {
    try {
      const s = await api(`/documents/${encodeURIComponent(id)}/status`);
      this.applyEvent({ document_id: id, status: s.status, seq: s.seq, progress: s.progress,
                        error: s.error, detail: s.detail });
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) this.remove(id);
    }
  }

  /** A record from the list, an upload or a retry: the status only moves forwards unless forced. */
  applyRecord(record, { force = false } = {}) {
    const doc = this.docs.get(record.id) || { seq: 0, progress: null, knownSince: performance.now() };
    const forward = force || doc.seq === 0 || doc.status === undefined || RANK[record.status] > RANK[doc.status];
    Object.assign(doc, record, forward ? {} : { status: doc.status, error: doc.error });
    if (force) doc.progress = null;
    this.docs.set(record.id, doc);
    this.renderRow(doc);
    return doc;
  }

  /** A status event from the stream (or a status read): applied once, in seq order. */
  applyEvent(event) {
    const id = event.document_id;
    let doc = this.docs.get(id);
    if (!doc) {
      doc = { id, filename: "…", seq: 0, progress: null, created_at: event.timestamp, size_bytes: 0,
              knownSince: performance.now() };
      this.docs.set(id, doc);
      // Uploaded elsewhere (another tab, the CLI): fetch its record for the name.
      api(`/documents/${encodeURIComponent(id)}`).then((r) => this.applyRecord(r)).catch(() => {});
    }
    if (event.seq <= doc.seq) return;
    doc.seq = event.seq;
    doc.status = event.status;
    if (event.progress) doc.progress = event.progress;
    if (event.doc_type) doc.doc_type = event.doc_type;
    doc.error = event.status === "failed" ? event.error || event.detail : null;
    this.renderRow(doc);
    if (this.openId === id) this.onOpenEvent(event, doc);
  }

  remove(id) {
    this.docs.delete(id);
    const row = this.rows.get(id);
    if (row) row.remove();
    this.rows.delete(id);
    this.renderList();
  }

  renderRow(doc) {
    let row = this.rows.get(doc.id);
    if (!row) {
      const link = h("a", { href: `#/doc/${encodeURIComponent(doc.id)}`, class: "doc-name" });
      const bar = h("progress", { max: "100", value: "0" });
      row = h("li", { class: "doc", dataset: { id: doc.id } },
        h("div", { class: "doc-head" }, link, h("span", { class: "badge" })),
        h("div", { class: "doc-bar" }, bar, h("span", { class: "pct" })),
        h("p", { class: "doc-sub note" }));
      this.rows.set(doc.id, row);
      this.placeRow(row, doc);
    }
    const percent = percentOf(doc.status || "pending", doc.progress);
    const name = doc.filename || doc.id;
    $(".doc-name", row).textContent = name;
    const badge = $(".badge", row);
    badge.textContent = label(doc.status || "pending");
    badge.dataset.status = doc.status || "pending";
    row.dataset.status = doc.status || "pending";
    const bar = $("progress", row);
    bar.value = percent;
    bar.dataset.percent = String(percent);
    bar.setAttribute("aria-label", `Progress of ${name}`);
    bar.setAttribute("aria-valuetext", `${percent}%, ${doc.status || "pending"}`);
    $(".pct", row).textContent = `${percent}%`;
    const parts = [];
    if (doc.progress && doc.status !== "completed") parts.push(`${doc.progress.done}/${doc.progress.total} chunks`);
    if (doc.doc_type) parts.push(doc.doc_type.replace("_", " "));
    if (doc.size_bytes) parts.push(formatBytes(doc.size_bytes));
    if (doc.priority) parts.push(`${doc.priority} priority`);
    if (doc.error) parts.push(doc.error);
    $(".doc-sub", row).textContent = parts.join(" · ");
    row.hidden = Boolean(this.filter) && this.filter !== (doc.status || "pending");
    this.renderEmpty();
  }

  placeRow(row, doc) {
    const list = $("#doc-list");
    // Newest first: before the first row created earlier than this one.
    const created = doc.created_at || "";
    for (const other of list.children) {
      const o = this.docs.get(other.dataset.id);
      if (o && (o.created_at || "") < created) {
        list.insertBefore(row, other);
        return;
      }
    }
    list.append(row);
  }

  renderList() {
    for (const doc of this.docs.values()) this.renderRow(doc);
    this.renderEmpty();
  }

  renderEmpty() {
    const any = [...this.rows.values()].some((r) => !r.hidden);
    $("#list-empty").hidden = any;
    $("#list-empty").textContent = this.docs.size ? "No document with this status." : "No documents yet: drop some files above.";
  }

  // --- upload -----------------------------------------------------------------------------

  async upload(files) {
    const form = new FormData();
    for (const f of files) form.append("files", f, f.name);
    const priority = $("#priority").value;
    if (priority) form.append("priority", priority);
    const log = $("#upload-log");
    const what = `Uploading ${files.length} file${files.length > 1 ? "s" : ""}`;
    const sent = h("progress", { max: "100", value: "0", "aria-label": what });
    const line = h("li", { class: "pending" }, `${what}… `, sent);
    log.prepend(line);
    while (log.children.length > 6) log.lastChild.remove();
    try {
      const body = await postForm("/documents/upload", form, (f) => {
        sent.value = Math.round(f * 100);
      });
      for (const r of body.results) if (r.accepted) this.applyRecord(r.document);
      const refused = body.results.filter((r) => !r.accepted);
      line.className = refused.length ? "warn" : "ok";
      line.replaceChildren(`${body.accepted} accepted${refused.length ? `, ${refused.length} refused` : ""}.`,
        ...refused.map((r) => h("span", { class: "refused" }, ` ${r.filename}: ${r.detail}`)));
      this.announce(`${body.accepted} file${body.accepted === 1 ? "" : "s"} uploaded`);
    } catch (err) {
      line.className = "error";
      line.textContent = `Upload refused: ${err.detail || err.message}`;
    }
  }

  // --- search -----------------------------------------------------------------------------

  async search(q) {
    const status = $("#search-status");
    const list = $("#search-results");
    q = q.trim();
    if (!q) {
      status.textContent = "Type words or a question to search for.";
      return;
    }
    status.textContent = "Searching…";
    try {
      const body = await api(`/search?q=${encodeURIComponent(q)}&k=10`);
      status.textContent = body.results.length
        ? `${body.results.length} passage${body.results.length > 1 ? "s" : ""} (${Math.round(body.took_ms)} ms).`
        : "Nothing found.";
      list.replaceChildren(...body.results.map((r) => h("li", { class: "hit" },
        h("a", { href: `#/doc/${encodeURIComponent(r.document_id)}` }, r.filename),
        h("span", { class: "note" }, ` ${[r.section_path.join(" › "), pageRange(r)].filter(Boolean).join(" · ")}`),
        h("p", { class: "snippet" }, highlighted(r.highlight)))));
    } catch (err) {
      status.textContent = err.detail || err.message;
      list.replaceChildren();
    }
  }

  // --- one document ---------------------------------------------------------------------

  async open(id) {
    this.openId = id;
    const panel = $("#detail");
    panel.hidden = false;
    panel.setAttribute("aria-busy", "true");
    $("#detail-title").textContent = this.docs.get(id)?.filename || "Document";
    $("#detail-results").replaceChildren(h("p", { class: "note" }, "Loading…"));
    $("#detail-error").textContent = "";
    for (const row of this.rows.values()) row.classList.toggle("selected", row.dataset.id === id);
    $("#detail-audit-box").open = false;
    try {
      const detail = await api(`/documents/${encodeURIComponent(id)}`);
      if (this.openId !== id) return;
      this.detail = detail;
      const doc = this.applyRecord(detail);
      const last = detail.history[detail.history.length - 1];
      if (last) this.applyEvent(last);
      this.renderDetail(doc, detail);
      if (detail.status === "completed") this.loadEnrichment(id);
    } catch (err) {
      if (this.openId !== id) return;
      $("#detail-results").replaceChildren();
      $("#detail-error").textContent = err.status === 404 ? "This document no longer exists." : err.detail || err.message;
    } finally {
      panel.removeAttribute("aria-busy");
    }
  }

  close() {
    this.openId = null;
    this.detail = null;
    $("#detail").hidden = true;
    for (const row of this.rows.values()) row.classList.remove("selected");
  }

  onOpenEvent(event, doc) {
    if (!this.detail) return;
    if (event.timestamp) this.detail.history.push(event);
    if (event.status === "completed" || event.status === "failed") {
      this.open(doc.id); // the final results, entities and similar documents
      return;
    }
    this.renderState(doc);
    this.renderHistory(this.detail.history);
  }

  renderState(doc) {
    const percent = percentOf(doc.status, doc.progress);
    $("#detail-progress").value = percent;
    $("#detail-progress").setAttribute("aria-valuetext", `${percent}%, ${doc.status}`);
    $("#detail-progress").parentElement.dataset.status = doc.status;
    const state = $("#detail-state");
    state.textContent = `${label(doc.status)} · ${percent}%`;
    state.dataset.status = doc.status;
    $("#detail-retry").hidden = doc.status !== "failed";
    $("#detail-error").textContent = doc.status === "failed" ? doc.error || "Failed." : "";
  }

  renderDetail(doc, detail) {
    $("#detail-title").textContent = detail.filename;
    const meta = [detail.content_type, formatBytes(detail.size_bytes),
      detail.page_count ? `${detail.page_count} page${detail.page_count > 1 ? "s" : ""}` : null,
      detail.chunk_count ? `${detail.chunk_count} chunk${detail.chunk_count > 1 ? "s" : ""}` : null,
      `${detail.priority} priority`, `uploaded ${formatTime(detail.created_at)}`];
    $("#detail-meta").textContent = meta.filter(Boolean).join(" · ");
    this.renderState(doc);
    this.renderHistory(detail.history);
    const out = [];
    const a = detail.analysis;
    if (detail.classification || detail.doc_type) {
      const c = detail.classification;
      out.push(section("Type", h("p", {}, h("span", { class: "chip" }, (detail.doc_type || c.label).replace("_", " ")),
        c ? h("span", { class: "note" }, ` ${Math.round(c.confidence * 100)}% confident (${c.version})`) : null)));
    }
    if (a) {
      out.push(section("Summary", h("p", { class: "summary", id: "detail-summary" }, a.summary)));
      if (a.topics.length) out.push(section("Topics", h("ul", { class: "chips" }, a.topics.map((t) => h("li", { class: "chip" }, t)))));
      out.push(section("Sentiment", h("p", {},
        h("span", { class: "chip", dataset: { sentiment: a.sentiment } }, a.sentiment),
        a.sentiment_justification ? ` ${a.sentiment_justification}` : "")));
      out.push(section("Action items", a.action_items.length
        ? h("ul", { class: "actions-list" }, a.action_items.map((i) => h("li", {}, i.text,
          i.owner || i.deadline ? h("span", { class: "note" }, ` — ${[i.owner, i.deadline].filter(Boolean).join(", ")}`) : null)))
        : h("p", { class: "note" }, "None found.")));
    } else if (!TERMINAL.has(detail.status)) {
      out.push(h("p", { class: "note" }, "Results appear here when the analysis completes."));
    }
    out.push(h("div", { id: "detail-entities" }), h("div", { id: "detail-similar" }));
    $("#detail-results").replaceChildren(...out);
  }

  renderHistory(history) {
    $("#detail-history").replaceChildren(...history.map((e) => h("li", {},
      h("time", { datetime: e.timestamp }, formatTime(e.timestamp)), " ",
      h("strong", {}, e.status), ` at ${e.stage}`,
      e.progress ? ` (${e.progress.done}/${e.progress.total})` : "",
      e.attempt ? ` attempt ${e.attempt}` : "",
      e.detail ? h("span", { class: "note" }, ` ${e.detail}`) : null)));
  }

  /** The document's trail as the topics hold it (GET /documents/{id}/audit), on demand. */
  async loadAudit(id) {
    const status = $("#detail-audit-status");
    const body = $("#detail-audit tbody");
    status.textContent = "Reading the topics…";
    body.replaceChildren();
    let trail;
    try {
      trail = await api(`/documents/${encodeURIComponent(id)}/audit`);
    } catch (err) {
      if (this.openId === id) status.textContent = err.status === 404 ? "No audit trail on this server." : err.detail || err.message;
      return;
    }
    if (this.openId !== id) return;
    const shown = trail.events.slice(-300);
    status.textContent = `${trail.count} event${trail.count === 1 ? "" : "s"}${shown.length < trail.count ? `, the last ${shown.length} shown` : ""}.`;
    body.replaceChildren(...shown.map((e) => h("tr", { dataset: { topic: e.topic } },
      h("td", {}, e.timestamp ? h("time", { datetime: e.timestamp, title: formatTime(e.timestamp) },
        new Date(e.timestamp).toLocaleTimeString()) : "–"),
      h("td", {}, e.topic, h("span", { class: "note" }, ` p${e.partition} #${e.offset}`)),
      h("td", { class: "wrap" }, h("strong", {}, e.type), " ", describe(e)))));
  }

  async loadEnrichment(id) {
    const [entities, similar] = await Promise.allSettled([
      api(`/documents/${encodeURIComponent(id)}/entities`),
      api(`/documents/${encodeURIComponent(id)}/similar?k=5`),
    ]);
    if (this.openId !== id) return;
    const ent = $("#detail-entities");
    if (ent && entities.status === "fulfilled") {
      const byLabel = new Map();
      for (const e of entities.value.rollup) {
        if (!byLabel.has(e.label)) byLabel.set(e.label, []);
        byLabel.get(e.label).push(e);
      }
      ent.replaceChildren(section("Entities", byLabel.size
        ? h("dl", { class: "entities" }, [...byLabel].map(([l, list]) => [
          h("dt", {}, l.replace("_", " ").toLowerCase()),
          h("dd", {}, h("ul", { class: "chips" }, list.slice(0, 12).map((e) =>
            h("li", { class: "chip" }, e.text, e.count > 1 ? h("span", { class: "count" }, ` ×${e.count}`) : null)))),
        ])) : h("p", { class: "note" }, "None found.")));
    }
    const sim = $("#detail-similar");
    if (sim && similar.status === "fulfilled" && similar.value.results.length) {
      sim.replaceChildren(section("Similar documents", h("ul", { class: "similar" }, similar.value.results.map((r) =>
        h("li", {}, h("a", { href: `#/doc/${encodeURIComponent(r.document_id)}` }, r.filename),
          h("span", { class: "note" }, ` ${Math.round(r.score * 100)}%`))))));
    }
  }

  confirmDelete() {
    const id = this.openId;
    const doc = id && this.docs.get(id);
    if (!doc) return;
    const dialog = $("#confirm");
    $("#confirm-title").textContent = "Delete this document?";
    $("#confirm-text").textContent = `${doc.filename}, its results and its search passages will be deleted.`;
    dialog.returnValue = "";
    dialog.addEventListener("close", async () => {
      if (dialog.returnValue !== "ok") return;
      try {
        await api(`/documents/${encodeURIComponent(id)}`, { method: "DELETE" });
        this.remove(id);
        this.announce(`${doc.filename} deleted`);
        location.hash = "#/";
      } catch (err) {
        $("#detail-error").textContent = err.detail || err.message;
      }
    }, { once: true });
    dialog.showModal();
    $("#confirm-ok").focus();
  }

  async retry() {
    const id = this.openId;
    try {
      const record = await api(`/documents/${encodeURIComponent(id)}/retry`, { method: "POST" });
      this.applyRecord(record, { force: true });
      this.open(id);
    } catch (err) {
      $("#detail-error").textContent = err.detail || err.message;
    }
  }
}

/** One line on what an audited event says. */
function describe(entry) {
  const p = entry.payload || {};
  if (p.status) return [p.status, p.stage, p.progress ? `${p.progress.done}/${p.progress.total}` : "", p.detail || ""].filter(Boolean).join(" · ");
  if (p.action) return [`${p.action} by ${p.actor}`, p.detail].filter(Boolean).join(" · ");
  if (p.chunk) return `chunk ${p.chunk.index + 1} of ${p.chunk_count}`;
  if (p.chunk_index !== undefined) return `chunk ${p.chunk_index + 1} of ${p.chunk_count}${p.error ? ` · ${p.error}` : ""}`;
  if (p.error) return p.error;
  if (p.filename) return `${p.filename} (${p.size_bytes} bytes)`;
  return "";
}

function section(title, ...content) {
  return h("section", { class: "result" }, h("h3", {}, title), ...content);
}

function pageRange(r) {
  return r.page_start === r.page_end ? `page ${r.page_start}` : `pages ${r.page_start}-${r.page_end}`;
}
