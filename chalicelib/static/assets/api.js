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

/** The page URL of a job on this frontend. */
export function jobPageUrl(jobId) {
  return `${BASE}/board/jobs/${encodeURIComponent(jobId)}`;
}
