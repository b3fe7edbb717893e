// Employer console: the applications the board delivered (native and Embloy clicks), filtered by job and
// status, paged with the API's cursor, and downloaded as CSV with the same filters.
import { ApiError, BASE, dateTime, h, humanError, humanize } from "./api.js";

const PAGE_SIZE = 25;
const SOURCES = { native: "Native application", embloy: "Apply with Embloy" };
const OUTCOMES = {
  submitted: "Delivered",
  pending_confirmation: "Awaiting confirmation",
  failed: "Not delivered",
  duplicate: "Duplicate",
  redirected: "Sent to Embloy",
};

const filters = document.getElementById("applications-filters");
const jobSelect = document.getElementById("applications-job");
const statusSelect = document.getElementById("applications-status");
const statusLine = document.getElementById("applications-status-line");
const table = document.getElementById("applications-table");
const rows = document.getElementById("applications-rows");
const moreButton = document.getElementById("applications-more");
const csvButton = document.getElementById("applications-csv");

let session = null; // {request, apiKey, onAuthError}
let nextCursor = null;
let generation = 0; // a newer load wins over a slower older one
const knownJobs = new Map(); // job_id -> title, from what was listed

function query(extra = {}) {
  const params = new URLSearchParams();
  if (jobSelect.value) params.set("job_id", jobSelect.value);
  if (statusSelect.value) params.set("status", statusSelect.value);
  for (const [key, value] of Object.entries(extra)) params.set(key, value);
  const text = params.toString();
  return text ? `?${text}` : "";
}

function atsStatus(item) {
  const status = item.status || {};
  const parts = [];
  if (status.application_status) parts.push(humanize(status.application_status));
  if (status.stage) parts.push(status.stage);
  const text = parts.join(" · ") || OUTCOMES[item.outcome] || humanize(item.outcome);
  return status.stale ? `${text} (last known)` : text;
}

function cell(label, ...content) {
  return h("td", { "data-label": label }, ...content);
}

function row(item) {
  const name = item.candidate_name || (item.channel === "embloy" ? "On Embloy" : "Not given");
  return h("tr", { dataset: { applicationId: item.id } },
    cell("Date", h("time", { datetime: item.submitted_at, text: dateTime(item.submitted_at, "unknown") })),
    cell("Job", item.job_title || item.job_id),
    cell("Candidate", h("span", { class: "candidate-name", text: name }),
      item.candidate_email ? h("span", { class: "candidate-email" }, h("a", { href: `mailto:${item.candidate_email}`, text: item.candidate_email })) : null),
    cell("Source", SOURCES[item.channel] || humanize(item.channel)),
    cell("ATS status", atsStatus(item)));
}

function rememberJobs(items) {
  let added = false;
  for (const item of items) {
    if (item.job_id && !knownJobs.has(item.job_id)) {
      knownJobs.set(item.job_id, item.job_title || item.job_id);
      added = true;
    }
  }
  if (!added) return;
  const chosen = jobSelect.value;
  const options = [...knownJobs.entries()].sort((a, b) => a[1].localeCompare(b[1]))
    .map(([id, title]) => h("option", { value: id, text: title }));
  jobSelect.replaceChildren(h("option", { value: "", text: "All jobs" }), ...options);
  jobSelect.value = chosen;
}

async function load({ append = false } = {}) {
  if (!session) return;
  const mine = ++generation;
  moreButton.disabled = true;
  statusLine.textContent = append ? "Loading more applications…" : "Loading applications…";
  try {
    const extra = { limit: String(PAGE_SIZE) };
    if (append && nextCursor) extra.cursor = nextCursor;
    const page = await session.request(`/applications${query(extra)}`);
    if (mine !== generation) return;
    const items = (page && Array.isArray(page.data)) ? page.data : [];
    rememberJobs(items);
    if (append) rows.append(...items.map(row));
    else rows.replaceChildren(...items.map(row));
    nextCursor = page && page.next_cursor ? page.next_cursor : null;
    const shown = rows.children.length;
    table.hidden = shown === 0;
    moreButton.hidden = !nextCursor;
    const filtered = jobSelect.value || statusSelect.value;
    statusLine.textContent = shown
      ? `${shown} application${shown === 1 ? "" : "s"} shown${nextCursor ? " (more below)" : ""}. Times are in your time zone.`
      : filtered ? "No applications match these filters." : "No applications yet.";
  } catch (exc) {
    if (mine !== generation || session.onAuthError(exc)) return;
    statusLine.textContent = `We couldn't load the applications. ${humanError(exc).message}`;
  } finally {
    moreButton.disabled = false;
  }
}

async function downloadCsv() {
  if (!session) return;
  csvButton.disabled = true;
  statusLine.textContent = "Preparing the CSV…";
  try {
    const response = await fetch(`${BASE}/applications.csv${query()}`, {
      headers: { Authorization: `Bearer ${session.apiKey()}`, Accept: "text/csv" },
      credentials: "omit",
      cache: "no-store",
    });
    if (!response.ok) {
      let body = null;
      try { body = await response.json(); } catch { body = null; }
      throw new ApiError(response.status, body);
    }
    const blob = await response.blob();
    const url = URL.createObjectURL(blob);
    const link = h("a", { href: url, download: "applications.csv", hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
    statusLine.textContent = "The CSV is downloading.";
  } catch (exc) {
    if (session.onAuthError(exc)) return;
    statusLine.textContent = `We couldn't prepare the CSV. ${humanError(exc).message}`;
  } finally {
    csvButton.disabled = false;
  }
}

filters.addEventListener("change", () => load());
filters.addEventListener("submit", (event) => event.preventDefault());
moreButton.addEventListener("click", () => load({ append: true }));
csvButton.addEventListener("click", () => downloadCsv());

/** Show the signed-in employer's applications: `request(path)` calls the API with their key. */
export function showApplications({ request, apiKey, onAuthError }) {
  session = { request, apiKey, onAuthError };
  nextCursor = null;
  knownJobs.clear();
  jobSelect.replaceChildren(h("option", { value: "", text: "All jobs" }));
  statusSelect.value = "";
  load();
}

/** Forget everything shown (sign-out): candidate data leaves the page. */
export function clearApplications() {
  session = null;
  generation++;
  rows.replaceChildren();
  table.hidden = true;
  moreButton.hidden = true;
  statusLine.textContent = "";
}
