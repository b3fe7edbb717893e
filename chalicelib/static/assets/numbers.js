// Employer console, "Numbers": views, Apply starts, applications and Embloy clicks per day, for every job
// or one, from GET /employer/numbers. Each counter is a small inline SVG bar chart (no chart library)
// with a title and a description, and the same figures are in a table below the charts.
// Self-contained: it starts when the console is shown and reads the key the console keeps in this tab.
import { ApiError, api, h, humanError } from "./api.js";

const KEY_STORAGE = "job-board.employer-key";
const SVG = "http://www.w3.org/2000/svg";
const SERIES = [
  ["views", "Views"],
  ["apply_starts", "Apply starts"],
  ["applications", "Applications"],
  ["embloy_clicks", "Embloy clicks"],
];
const WIDTH = 320;
const HEIGHT = 72;

const consoleBox = document.getElementById("console");
const section = document.getElementById("numbers");
const form = document.getElementById("numbers-form");
const jobSelect = document.getElementById("numbers-job");
const daysSelect = document.getElementById("numbers-days");
const status = document.getElementById("numbers-status");
const charts = document.getElementById("numbers-charts");
const tableBox = document.getElementById("numbers-table");
const jobsBox = document.getElementById("numbers-jobs");

let loadedFor = "";
let request = null;

function storedKey() {
  try {
    return sessionStorage.getItem(KEY_STORAGE) || "";
  } catch {
    return "";
  }
}

function number(value) {
  return Number(value || 0).toLocaleString("en");
}

function dayLabel(day) {
  const date = new Date(`${day}T00:00:00Z`);
  return date.toLocaleDateString("en", { month: "short", day: "numeric", timeZone: "UTC" });
}

function svg(tag, attributes = {}, ...children) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  for (const child of children) element.append(child);
  return element;
}

/** One counter's days as bars; the figure's text alternative names the period, the total and the peak. */
export function barChart(id, label, series, key, { width = WIDTH, height = HEIGHT } = {}) {
  const values = series.map((day) => Number(day[key] || 0));
  const total = values.reduce((sum, value) => sum + value, 0);
  const peak = Math.max(0, ...values);
  const peakDay = peak > 0 ? series[values.indexOf(peak)].day : null;
  const first = series.length ? series[0].day : "";
  const last = series.length ? series[series.length - 1].day : "";
  const description = peak > 0
    ? `${number(total)} ${label.toLowerCase()} from ${dayLabel(first)} to ${dayLabel(last)} (UTC); the most on ${dayLabel(peakDay)}: ${number(peak)}.`
    : `No ${label.toLowerCase()} from ${dayLabel(first)} to ${dayLabel(last)} (UTC).`;
  const slot = width / Math.max(series.length, 1);
  const gap = slot > 4 ? 1 : 0;
  const bars = values.map((value, index) => {
    const barHeight = peak > 0 ? Math.max(value > 0 ? 1 : 0, Math.round((value / peak) * (height - 2))) : 0;
    return svg(
      "rect",
      { x: (index * slot).toFixed(2), y: height - barHeight, width: Math.max(slot - gap, 0.5).toFixed(2), height: barHeight, class: "numbers-bar" },
      svg("title", {}, `${dayLabel(series[index].day)}: ${number(value)}`),
    );
  });
  const chart = svg(
    "svg",
    { id, viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: "none", role: "img", "aria-labelledby": `${id}-title ${id}-desc`, class: "numbers-svg", focusable: "false" },
    svg("title", { id: `${id}-title` }, `${label} per day`),
    svg("desc", { id: `${id}-desc` }, description),
    svg("line", { x1: 0, y1: height - 0.5, x2: width, y2: height - 0.5, class: "numbers-axis" }),
    ...bars,
  );
  return h(
    "figure",
    { class: "numbers-chart" },
    h("figcaption", {}, h("span", { class: "numbers-label", text: label }), " ", h("strong", { text: number(total) })),
    chart,
    h("p", { class: "numbers-range hint", "aria-hidden": "true" }, h("span", { text: dayLabel(first) }), h("span", { text: dayLabel(last) })),
  );
}

function dailyTable(body) {
  const head = h("tr", {}, h("th", { scope: "col", text: "Day (UTC)" }), ...SERIES.map(([, label]) => h("th", { scope: "col", text: label })));
  const rows = [...body.series].reverse().map((day) =>
    h("tr", {}, h("th", { scope: "row", text: dayLabel(day.day) }), ...SERIES.map(([key]) => h("td", { text: number(day[key]) }))),
  );
  return h(
    "details",
    { class: "numbers-details" },
    h("summary", { text: "The numbers per day as a table" }),
    h("div", { class: "table-scroll", tabindex: "0", role: "region", "aria-label": "Numbers per day" }, h("table", { class: "numbers-table" }, h("caption", { class: "visually-hidden", text: "Numbers per day, newest first" }), h("thead", {}, head), h("tbody", {}, rows))),
  );
}

function jobsTable(body) {
  if (!body.jobs.length) return h("p", { class: "hint", text: "No job has been viewed in this period yet." });
  const head = h("tr", {}, h("th", { scope: "col", text: "Job" }), ...SERIES.map(([, label]) => h("th", { scope: "col", text: label })));
  const rows = body.jobs.map((job) =>
    h("tr", {}, h("th", { scope: "row", text: job.title || job.job_id }), ...SERIES.map(([key]) => h("td", { text: number(job.totals[key]) }))),
  );
  return h(
    "div",
    // Wide on a phone: the table scrolls sideways, so it must be reachable with the keyboard.
    { class: "table-scroll", tabindex: "0", role: "region", "aria-label": "Numbers per job" },
    h("table", { class: "numbers-table" }, h("caption", { text: `Per job, last ${body.days} days` }), h("thead", {}, head), h("tbody", {}, rows)),
  );
}

function fillJobs(jobs) {
  const chosen = jobSelect.value;
  jobSelect.replaceChildren(
    h("option", { value: "", text: "All jobs" }),
    ...jobs.map((job) => h("option", { value: job.job_id, text: job.title || job.job_id })),
  );
  if (chosen && [...jobSelect.options].some((option) => option.value === chosen)) jobSelect.value = chosen;
}

/** Render one GET /employer/numbers body into the section (exported for the markup tests). */
export function render(body, { forJob = "" } = {}) {
  const prefix = forJob ? "numbers-job" : "numbers-all";
  charts.replaceChildren(...SERIES.map(([key, label]) => barChart(`${prefix}-${key}`, label, body.series, key)));
  tableBox.replaceChildren(dailyTable(body));
  if (!forJob) {
    fillJobs(body.jobs);
    jobsBox.replaceChildren(jobsTable(body));
  }
  const scope = forJob ? jobSelect.selectedOptions[0]?.textContent || "this job" : "all your jobs";
  status.textContent = `Last ${body.days} days for ${scope}, up to today (UTC). New views show within a few minutes.`;
}

async function load() {
  const key = storedKey();
  if (!key) return;
  const days = daysSelect.value || "30";
  const job = jobSelect.value;
  const query = new URLSearchParams({ days });
  if (job) query.set("job_id", job);
  if (request) request.abort();
  request = new AbortController();
  status.textContent = "Loading the numbers…";
  try {
    const body = await api(`/employer/numbers?${query}`, { headers: { Authorization: `Bearer ${key}` }, signal: request.signal });
    if (job) {
      render(body, { forJob: job });
    } else {
      render(body);
    }
  } catch (exc) {
    if (exc && exc.name === "AbortError") return;
    if (exc instanceof ApiError && exc.status === 401) return; // the console signs out and says why
    const { message } = humanError(exc, { notFound: "That job is not one of yours." });
    status.textContent = `We couldn't load the numbers. ${message}`;
  }
}

function onConsoleShown() {
  const key = storedKey();
  if (consoleBox.hidden || !key) {
    loadedFor = "";
    return;
  }
  if (loadedFor === key) return;
  loadedFor = key;
  load();
}

if (section && consoleBox) {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    load();
  });
  jobSelect.addEventListener("change", load);
  daysSelect.addEventListener("change", load);
  new MutationObserver(onConsoleShown).observe(consoleBox, { attributes: true, attributeFilter: ["hidden"] });
  onConsoleShown();
}
