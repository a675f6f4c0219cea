// doclane dashboard: sign-in, the hash router, and the live stream that feeds the pages.

import { ApiError, login, logout, onUnauthorized, session } from "./js/api.js";
import { AdminPage } from "./js/admin.js";
import { DocumentsPage } from "./js/documents.js";
import { $ } from "./js/dom.js";
import { StatusStream } from "./js/stream.js";

const VIEWS = ["login", "documents", "admin", "forbidden"];
const STATE_TEXT = { off: "Offline", connecting: "Connecting…", live: "Live", retrying: "Reconnecting…" };

const announcer = $("#live");
/** Polite announcements for screen readers (uploads, deletions, pauses). */
function announce(text) {
  $("#announcer").textContent = text;
}

const documents = new DocumentsPage({ announce });
const admin = new AdminPage({ announce });
let stream = null;

function show(view) {
  for (const name of VIEWS) $(`#view-${name}`).hidden = name !== view;
  for (const link of document.querySelectorAll("#nav a")) {
    if (link.dataset.route === view) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  document.title = { login: "Sign in", documents: "Documents", admin: "Operations", forbidden: "Admins only" }[view] + " · doclane";
}

function signedIn(user) {
  $("#nav").hidden = false;
  $("#session").hidden = false;
  $("#nav-admin").hidden = user.role !== "admin";
  $("#whoami").textContent = `${user.name}${user.role === "admin" ? " (admin)" : ""}`;
  stream = new StatusStream({
    onStatus: (event) => documents.applyEvent(event),
    onState: (state) => {
      announcer.dataset.state = state;
      announcer.textContent = STATE_TEXT[state];
    },
    // After every (re)connect: what happened while disconnected is in the list and statuses.
    onOpen: () => documents.refresh().catch(report),
  });
  stream.start();
}

function signedOut(note = "") {
  if (stream) stream.stop();
  stream = null;
  admin.reset();
  documents.reset();
  session.clear();
  $("#nav").hidden = true;
  $("#session").hidden = true;
  $("#login-note").textContent = note;
  $("#password").value = "";
  if (location.hash && location.hash !== "#/") history.replaceState(null, "", "#/");
  route();
}

function report(err) {
  if (err instanceof ApiError && err.status === 401) return; // handled by onUnauthorized
  console.warn("doclane:", err); // eslint-disable-line no-console
}

function route() {
  const user = session.user;
  const hash = location.hash || "#/";
  if (!user) {
    admin.stop();
    show("login");
    $("#username").focus();
    return;
  }
  if (hash.startsWith("#/admin")) {
    documents.close();
    if (user.role !== "admin") {
      show("forbidden");
      return;
    }
    show("admin");
    admin.start();
    return;
  }
  admin.stop();
  show("documents");
  const m = /^#\/doc\/(.+)$/.exec(hash);
  if (m) {
    const id = decodeURIComponent(m[1]);
    if (documents.openId !== id) documents.open(id).then(focusDetail);
  } else {
    documents.close();
  }
}

/** Focus the opened document; scroll only when it is out of sight (below the list on a phone). */
function focusDetail() {
  const panel = $("#detail");
  panel.focus({ preventScroll: true });
  const top = panel.getBoundingClientRect().top;
  if (top < 0 || top > window.innerHeight * 0.6) panel.scrollIntoView({ block: "start" });
}

$("#login-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const error = $("#login-error");
  const username = $("#username").value.trim();
  const password = $("#password").value;
  if (!username || !password) {
    error.textContent = !username ? "Enter your username." : "Enter your password.";
    (!username ? $("#username") : $("#password")).focus();
    return;
  }
  error.textContent = "";
  $("#login-submit").disabled = true;
  try {
    const user = await login(username, password);
    $("#login-note").textContent = "";
    $("#password").value = "";
    signedIn(user);
    route();
    $("#main").focus();
  } catch (err) {
    error.textContent = err.detail || err.message;
    $("#password").select();
  } finally {
    $("#login-submit").disabled = false;
  }
});

$("#logout").addEventListener("click", async () => {
  if (stream) stream.stop();
  await logout();
  signedOut("You are signed out.");
});

// The server's reasons name API routes ("log in again at POST /auth/login"): say it for a person.
onUnauthorized(() => signedOut("Your session has ended (it expired, or you signed out elsewhere). Sign in again."));
window.addEventListener("hashchange", route);

// Expose the stream for tests and debugging (drop it to see the resume).
window.doclane = { get stream() { return stream; } };

const user = session.user;
if (user) signedIn(user);
else session.clear();
route();
