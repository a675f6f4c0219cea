// The gateway's HTTP API: the session (token in sessionStorage) and JSON requests.

const TOKEN_KEY = "doclane.token";

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
    this.detail = detail;
  }
}

/** The claims of a JWT (not verified: the server does that on every request). */
function claims(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(part.padEnd(part.length + ((4 - (part.length % 4)) % 4), "=")));
  } catch {
    return null;
  }
}

export const session = {
  get token() {
    return sessionStorage.getItem(TOKEN_KEY);
  },
  /** {name, role, exp} of the stored token, or null when there is none or it expired. */
  get user() {
    const token = this.token;
    const c = token && claims(token);
    if (!c || typeof c.sub !== "string" || (c.exp && c.exp * 1000 <= Date.now())) return null;
    return { name: c.sub, role: c.role === "admin" ? "admin" : "user", exp: c.exp };
  },
  save(token) {
    sessionStorage.setItem(TOKEN_KEY, token);
  },
  clear() {
    for (const key of Object.keys(sessionStorage)) {
      if (key.startsWith("doclane.")) sessionStorage.removeItem(key);
    }
  },
};

/** Listeners told when the server refuses the token (expired, revoked). */
const unauthorizedListeners = new Set();
export function onUnauthorized(fn) {
  unauthorizedListeners.add(fn);
}
export function notifyUnauthorized(detail) {
  for (const fn of unauthorizedListeners) fn(detail);
}

async function detailOf(response) {
  try {
    const body = await response.json();
    if (body && typeof body.detail === "string") return body.detail;
    if (body && Array.isArray(body.detail)) return body.detail.map((d) => d.msg).join("; ");
  } catch {
    /* not JSON */
  }
  return `${response.status} ${response.statusText}`;
}

/** fetch with the bearer token; JSON in and out; ApiError with the server's detail on 4xx/5xx. */
export async function api(path, { method = "GET", json, body, headers = {}, signal, raw = false } = {}) {
  const init = { method, headers: { ...headers }, signal };
  const token = session.token;
  if (token) init.headers.Authorization = `Bearer ${token}`;
  if (json !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  } else if (body !== undefined) {
    init.body = body;
  }
  const response = await fetch(path, init);
  if (!response.ok) {
    const detail = await detailOf(response);
    if (response.status === 401 && token) notifyUnauthorized(detail);
    throw new ApiError(response.status, detail);
  }
  if (raw) return response;
  if (response.status === 204) return null;
  const type = response.headers.get("content-type") || "";
  return type.includes("json") ? response.json() : response.text();
}

/**
 * POST a form with XMLHttpRequest, which (unlike fetch) reports upload progress:
 * onProgress(fraction) as the bytes go out. Resolves with the JSON answer; ApiError otherwise.
 */
export function postForm(path, form, onProgress = () => {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", path);
    const token = session.token;
    if (token) xhr.setRequestHeader("Authorization", `Bearer ${token}`);
    xhr.responseType = "text";
    xhr.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable && e.total > 0) onProgress(e.loaded / e.total);
    });
    xhr.addEventListener("load", () => {
      let body = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        /* not JSON */
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        resolve(body);
        return;
      }
      const detail = body && typeof body.detail === "string" ? body.detail : `${xhr.status} ${xhr.statusText}`;
      if (xhr.status === 401 && token) notifyUnauthorized(detail);
      reject(new ApiError(xhr.status, detail));
    });
    xhr.addEventListener("error", () => reject(new ApiError(0, "The upload was cut off; check the connection and try again.")));
    xhr.send(form);
  });
}

export async function login(username, password) {
  const response = await fetch("/auth/login", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username, password }),
  });
  if (!response.ok) throw new ApiError(response.status, await detailOf(response));
  const body = await response.json();
  session.save(body.access_token);
  return session.user;
}

export async function logout() {
  try {
    if (session.token) await api("/auth/logout", { method: "POST" });
  } catch {
    /* the token may already be invalid: forgetting it is what matters */
  } finally {
    session.clear();
  }
}
