// Shared helpers: the API's base path, fetch with the API's error shape, and small DOM builders.

/** Path prefix in front of every route ("" locally, "/api" behind an API Gateway stage). */
export const BASE = document.documentElement.dataset.base || "";

/** An error response of the API: {"error": {"code", "message", "fields"}}. */
export class ApiError extends Error {
  constructor(status, body) {
    const error = (body && typeof body === "object" && body.error) || {};
    super(typeof error.message === "string" ? error.message : `Request failed (${status}).`);
    this.status = status;
    this.code = typeof error.code === "string" ? error.code : "http_" + status;
    this.fields = error.fields && typeof error.fields === "object" ? error.fields : {};
    this.details = error;
  }
}

/** fetch a JSON API path (relative to BASE); resolves to the parsed body, rejects with ApiError. */
export async function api(path, { method = "GET", body, headers = {}, signal } = {}) {
  const init = { method, headers: { Accept: "application/json", ...headers }, signal, credentials: "omit" };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(BASE + path, init);
  } catch (exc) {
    if (exc && exc.name === "AbortError") throw exc;
    throw new ApiError(0, { error: { code: "network_error", message: "Could not reach the server. Check your connection and try again." } });
  }
  const text = await response.text();
  let parsed = null;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = null;
    }
  }
  if (!response.ok) throw new ApiError(response.status, parsed);
  return parsed;
}

/** Create an element with properties/attributes and children (strings become text nodes, never HTML). */
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") element.className = value;
    else if (key === "text") element.textContent = value;
    else if (key === "dataset") Object.assign(element.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") element.addEventListener(key.slice(2), value);
    else if (key in element && typeof value !== "string") element[key] = value;
    else element.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/** Human label of an enum-ish value: "full_time" -> "Full time". */
export function humanize(value) {
  if (value === undefined || value === null || value === "") return "";
  const text = String(value).replace(/[_-]+/g, " ").trim();
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Locations as display strings, whether the API sends strings or {"name"} objects. */
export function locationNames(locations) {
  if (!Array.isArray(locations)) return [];
  return locations.map((item) => (typeof item === "string" ? item : item && item.name)).filter(Boolean);
}

function amount(value) {
  const number = Number(value);
  if (!Number.isFinite(number)) return "";
  return number.toLocaleString("en", { maximumFractionDigits: 2 });
}

/** One pay element ({kind,label,currency,min,max,period} or a summary with "text") as a string. */
export function payText(pay) {
  if (!pay) return "";
  if (typeof pay === "string") return pay;
  if (typeof pay.text === "string" && pay.text) return pay.text;
  const low = pay.min ?? pay.min_value;
  const high = pay.max ?? pay.max_value;
  let range = "";
  if (low != null && high != null && Number(low) !== Number(high)) range = `${amount(low)}–${amount(high)}`;
  else if (low != null || high != null) range = amount(low ?? high);
  if (!range && typeof pay.percent === "number") return `${pay.percent}%`;
  if (!range) return pay.label || "";
  let text = pay.currency ? `${pay.currency} ${range}` : range;
  if (pay.period) text += ` / ${pay.period}`;
  return text;
}

/** A date string as a short local date, or "" when absent or invalid. */
export function shortDate(value) {
  if (!value) return "";
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return "";
  return date.toLocaleDateString("en", { year: "numeric", month: "short", day: "numeric" });
}

/**
 * A moment as date and time in the reader's time zone, naming the zone ("Nov 22, 2026, 3:00 PM GMT+1"),
 * or `fallback` when absent or invalid.
 */
export function dateTime(value, fallback = "") {
  if (!value) return fallback;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return fallback;
  return new Intl.DateTimeFormat("en", {
    year: "numeric", month: "short", day: "numeric", hour: "numeric", minute: "2-digit", timeZoneName: "short",
  }).format(date);
}

/** The page URL of a job on this frontend. */
export function jobPageUrl(jobId) {
  return `${BASE}/board/jobs/${encodeURIComponent(jobId)}`;
}

/** "today", "yesterday", "3 days ago", "2 weeks ago", or "on Nov 1, 2026" (the server's wording). */
export function relativeDate(value, now = new Date()) {
  if (!value) return "";
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return "";
  const day = (moment) => Date.UTC(moment.getUTCFullYear(), moment.getUTCMonth(), moment.getUTCDate());
  const days = Math.round((day(now) - day(date)) / 86400000);
  if (days <= 0) return "today";
  if (days === 1) return "yesterday";
  if (days < 7) return `${days} days ago`;
  if (days < 31) return Math.floor(days / 7) === 1 ? "1 week ago" : `${Math.floor(days / 7)} weeks ago`;
  return `on ${date.toLocaleDateString("en-US", { year: "numeric", month: "short", day: "numeric", timeZone: "UTC" })}`;
}

/** A field message for people: no validator prefixes ("Value error, ..."), first letter capitalised. */
export function cleanMessage(text) {
  const cleaned = String(text ?? "").replace(/^\s*(value|type|assertion) error,\s*/i, "").trim();
  return cleaned.charAt(0).toUpperCase() + cleaned.slice(1);
}

/**
 * What to tell a person about a failed request, never relying on the server's wording:
 * {message, retry} where `retry` says whether trying again can help.
 */
export function humanError(exc, { notFound = "This is no longer available." } = {}) {
  if (!(exc instanceof ApiError)) return { message: "Something went wrong. Please try again.", retry: true };
  const status = exc.status;
  if (status === 0) return { message: "We couldn't reach the job board. Check your connection and try again.", retry: true };
  if (status === 429) return { message: "Too many attempts in a short time. Wait a moment, then try again.", retry: true };
  if (status >= 500) return { message: "Something went wrong on our side. Please try again in a moment.", retry: true };
  if (status === 404 || status === 410) return { message: notFound, retry: false };
  if (status === 401 || status === 403) return { message: "You are not allowed to do this. Sign in again and retry.", retry: false };
  if (status === 409) return { message: "This was already done, or cannot be done right now.", retry: false };
  if (status === 413) return { message: "That is too large to send. Attach a smaller file.", retry: false };
  return { message: "Some details need correcting. Check the marked fields.", retry: false };
}
