// The live status stream, GET /documents/stream, read with fetch() because EventSource cannot
// send the Authorization header the gateway asks for. Resumes after a drop with Last-Event-ID
// (the last cursor seen, kept in sessionStorage so a reload resumes too) and drops any event
// whose cursor it has already handled.

import { session, notifyUnauthorized } from "./api.js";

const CURSOR_KEY = "doclane.cursor";
// The server pings every DOCLANE_HEARTBEAT_S (15 s by default); silence for longer than this
// means the connection is dead even if the socket has not noticed yet.
const SILENCE_MS = 45_000;
const BACKOFF_MS = [500, 1000, 2000, 4000, 8000, 15000];

/** Splits a text/event-stream body into events ({event, data, id}); see the HTML spec's parser. */
export class SseParser {
  constructor(onEvent) {
    this.onEvent = onEvent;
    this.buffer = "";
    this.reset();
  }

  reset() {
    this.event = "";
    this.data = [];
    this.id = null;
  }

  push(text) {
    this.buffer += text;
    let start = 0;
    for (;;) {
      const m = /\r\n|\r|\n/.exec(this.buffer.slice(start));
      if (!m) break;
      // A lone \r at the very end may be the first half of \r\n: wait for more.
      if (m[0] === "\r" && start + m.index + 1 === this.buffer.length) break;
      this.line(this.buffer.slice(start, start + m.index));
      start += m.index + m[0].length;
    }
    this.buffer = this.buffer.slice(start);
  }

  line(line) {
    if (line === "") {
      if (this.data.length) this.onEvent({ event: this.event || "message", data: this.data.join("\n"), id: this.id });
      this.reset();
      return;
    }
    if (line.startsWith(":")) return; // comment: the server's ping
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") this.event = value;
    else if (field === "data") this.data.push(value);
    else if (field === "id" && !value.includes("\0")) this.id = value;
  }
}

/**
 * Follows the stream until stop(). Calls onStatus(event) once per status event, in cursor
 * order, and onState("connecting" | "live" | "retrying" | "off") as the connection changes;
 * onOpen() after every (re)connect, so the caller can catch up on what the list shows.
 */
export class StatusStream {
  constructor({ onStatus, onState = () => {}, onOpen = () => {} }) {
    this.onStatus = onStatus;
    this.onState = onState;
    this.onOpen = onOpen;
    this.controller = null;
    this.stopped = true;
    this.failures = 0;
    const saved = sessionStorage.getItem(CURSOR_KEY);
    this.cursor = saved !== null && /^\d+$/.test(saved) ? Number(saved) : null;
  }

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    this.loop();
  }

  stop() {
    this.stopped = true;
    if (this.controller) this.controller.abort();
    this.onState("off");
  }

  /** Drops the connection and reconnects at once (tests and the "reconnect" case). */
  reconnect() {
    if (this.controller) this.controller.abort();
  }

  async loop() {
    while (!this.stopped) {
      this.onState(this.failures ? "retrying" : "connecting");
      try {
        await this.connectOnce();
      } catch (err) {
        if (this.stopped) return;
        if (err && err.fatal) return;
      }
      if (this.stopped) return;
      const wait = BACKOFF_MS[Math.min(this.failures, BACKOFF_MS.length - 1)];
      this.failures += 1;
      this.onState("retrying");
      await new Promise((resolve) => setTimeout(resolve, this.failures === 1 ? 0 : wait));
    }
  }

  async connectOnce() {
    const controller = new AbortController();
    this.controller = controller;
    const headers = { Accept: "text/event-stream", Authorization: `Bearer ${session.token}` };
    if (this.cursor !== null) headers["Last-Event-ID"] = String(this.cursor);
    let response;
    try {
      response = await fetch("/documents/stream", { headers, signal: controller.signal, cache: "no-store" });
    } catch {
      return; // network error or aborted: the loop retries
    }
    if (response.status === 401) {
      this.stopped = true;
      notifyUnauthorized("Your session ended; sign in again.");
      const err = new Error("unauthorized");
      err.fatal = true;
      throw err;
    }
    if (response.status === 400 && this.cursor !== null) {
      // The saved cursor is not one this server knows (its data was reset): start from now.
      this.setCursor(null);
      return;
    }
    if (!response.ok || !response.body) return;
    this.failures = 0;
    this.onState("live");
    this.onOpen();
    let timer = null;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => controller.abort(), SILENCE_MS);
    };
    const parser = new SseParser((message) => this.dispatch(message));
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    arm();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        arm();
        parser.push(value);
      }
    } catch {
      /* aborted or dropped: reconnect */
    } finally {
      clearTimeout(timer);
      reader.releaseLock();
    }
  }

  dispatch(message) {
    if (message.event === "error") {
      this.stopped = true;
      let detail = "Your session ended; sign in again.";
      try {
        detail = JSON.parse(message.data).detail || detail;
      } catch {
        /* keep the default */
      }
      notifyUnauthorized(detail);
      return;
    }
    if (message.event !== "status") return;
    let event;
    try {
      event = JSON.parse(message.data);
    } catch {
      return;
    }
    const cursor = Number(message.id ?? event.cursor);
    if (this.cursor !== null && cursor <= this.cursor) return; // seen before a reconnect
    this.setCursor(cursor);
    this.onStatus(event);
  }

  setCursor(cursor) {
    this.cursor = cursor;
    if (cursor === null) sessionStorage.removeItem(CURSOR_KEY);
    else sessionStorage.setItem(CURSOR_KEY, String(cursor));
  }
}
