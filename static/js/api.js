// Small JSON API client: CSRF header, session, and writes with proof of work.
import { url } from "./config.js";
import { t } from "./i18n.js";
import { solve } from "./pow.js";

export class ApiError extends Error {
  constructor(status, code, detail) {
    super(detail || code || `HTTP ${status}`);
    this.status = status;
    this.code = code;
  }
}

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

async function parse(response) {
  const text = await response.text();
  let data = {};
  try {
    data = text ? JSON.parse(text) : {};
  } catch {
    data = { error: "bad_response", detail: t("The server answered something unexpected.") };
  }
  if (!response.ok) throw new ApiError(response.status, data.error, data.detail);
  return data;
}

export async function getJSON(url) {
  return parse(await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" }));
}

export async function postJSON(url, body) {
  return parse(
    await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken(), Accept: "application/json" },
      body: JSON.stringify(body ?? {}),
    }),
  );
}

export async function postForm(url, formData) {
  return parse(
    await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
      body: formData,
    }),
  );
}

export function startSession() {
  return postJSON(url("api-session"));
}

// Fetch a fresh challenge, solve it in the worker, and return the pow fields.
export async function proofOfWork() {
  const session = await startSession();
  const nonce = await solve(session.pow_challenge, session.pow_difficulty);
  return { pow_challenge: session.pow_challenge, pow_nonce: nonce };
}

// POST a JSON write that needs proof of work.
export async function postWithWork(url, body) {
  return postJSON(url, { ...body, ...(await proofOfWork()) });
}
