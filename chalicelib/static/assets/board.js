// The board: search box, facet filters with counts, results with "load more"; state lives in the URL.
import { ApiError, api, h, humanize, jobPageUrl, locationNames, payText, shortDate } from "./api.js";

const FACETS = [
  ["remote", "Remote"],
  ["employment_type", "Employment type"],
  ["location", "Location"],
  ["company", "Company"],
  ["provider", "Source ATS"],
  ["department", "Department"],
];
const FILTER_NAMES = FACETS.map(([name]) => name);
const FACET_PREVIEW = 8;
const PAGE_SIZE = 20;

const form = document.getElementById("search-form");
const input = document.getElementById("q");
const sortSelect = document.getElementById("sort");
const SORTS = new Set(["newest", "relevance"]);
const facetsBox = document.getElementById("facets");
const clearButton = document.getElementById("clear-filters");
const results = document.getElementById("results");
const statusLine = document.getElementById("status");
const loadMore = document.getElementById("load-more");

let nextCursor = null;
let inFlight = null;
const expanded = new Set();

function readState() {
  const params = new URLSearchParams(location.search);
  const filters = {};
  for (const name of FILTER_NAMES) {
    const values = params.getAll(name).filter((value) => value !== "");
    if (values.length) filters[name] = values;
  }
  const sort = params.get("sort") || "";
  return { q: (params.get("q") || "").trim(), sort: SORTS.has(sort) ? sort : "", filters };
}

function stateParams(state) {
  const params = new URLSearchParams();
  if (state.q) params.set("q", state.q);
  if (state.sort) params.set("sort", state.sort);
  for (const name of FILTER_NAMES) for (const value of state.filters[name] || []) params.append(name, value);
  return params;
}

function writeState(state, { replace = false } = {}) {
  const query = stateParams(state).toString();
  const url = location.pathname + (query ? `?${query}` : "");
  if (url === location.pathname + location.search) return;
  (replace ? history.replaceState : history.pushState).call(history, null, "", url);
}

function facetLabel(name, value) {
  if (name === "remote") return value === "true" ? "Remote" : value === "false" ? "On-site" : humanize(value);
  if (name === "employment_type" || name === "provider") return humanize(value);
  return value;
}

/** Facet counts as [value, count] pairs, from {"value": count} or [{"value","count"}]. */
function facetEntries(raw) {
  if (Array.isArray(raw)) return raw.map((item) => [String(item.value ?? item.key ?? ""), Number(item.count) || 0]);
  if (raw && typeof raw === "object") return Object.entries(raw).map(([value, count]) => [value, Number(count) || 0]);
  return [];
}

function renderFacets(facets, state) {
  facetsBox.replaceChildren();
  let any = false;
  for (const [name, label] of FACETS) {
    const selected = new Set(state.filters[name] || []);
    const entries = facetEntries(facets && facets[name]);
    const known = new Set(entries.map(([value]) => value));
    for (const value of selected) if (!known.has(value)) entries.push([value, 0]);
    if (!entries.length) continue;
    entries.sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    const showAll = expanded.has(name) || entries.length <= FACET_PREVIEW + 2;
    const visible = showAll ? entries : entries.filter(([value], index) => index < FACET_PREVIEW || selected.has(value));
    const fieldset = h("fieldset", { class: "facet", dataset: { facet: name } }, h("legend", { text: label }));
    const list = h("ul", { class: "facet-values" });
    visible.forEach(([value, count], index) => {
      const id = `facet-${name}-${index}`;
      const checkbox = h("input", {
        type: "checkbox",
        id,
        name,
        value,
        checked: selected.has(value),
        onchange: onFacetChange,
      });
      list.append(
        h("li", {}, checkbox, h("label", { for: id }, facetLabel(name, value), " ", h("span", { class: "count", text: `(${count})` }))),
      );
    });
    fieldset.append(list);
    if (!showAll) {
      fieldset.append(
        h("button", {
          type: "button",
          class: "link-button",
          text: `Show all ${entries.length}`,
          onclick: () => {
            expanded.add(name);
            renderFacets(facets, readState());
          },
        }),
      );
    }
    facetsBox.append(fieldset);
    any = true;
  }
  if (!any) facetsBox.append(h("p", { class: "hint", text: "No filters for these results." }));
  clearButton.hidden = !Object.keys(state.filters).length;
}

function onFacetChange(event) {
  const state = readState();
  const { name, value, checked } = event.target;
  const values = new Set(state.filters[name] || []);
  if (checked) values.add(value);
  else values.delete(value);
  if (values.size) state.filters[name] = [...values];
  else delete state.filters[name];
  const focusId = event.target.id;
  const focusKey = `${name}\u0000${value}`;
  writeState(state);
  search(state).then(() => restoreFocus(focusId, focusKey));
}

function restoreFocus(id, key) {
  // The facet list is re-rendered with new counts; keep the keyboard user on the checkbox they toggled.
  for (const box of facetsBox.querySelectorAll("input[type=checkbox]")) {
    if (`${box.name}\u0000${box.value}` === key) return box.focus();
  }
  const fallback = document.getElementById(id);
  if (fallback) fallback.focus();
}

function jobItem(job) {
  const locations = locationNames(job.locations);
  const meta = [];
  if (locations.length) meta.push(h("li", { class: "location" }, locations.join(" · ")));
  if (job.remote === true) meta.push(h("li", { class: "tag remote", text: "Remote" }));
  if (job.employment_type) meta.push(h("li", { class: "tag", text: humanize(job.employment_type) }));
  const pay = payText(job.compensation_summary || (Array.isArray(job.compensation) ? job.compensation[0] : job.compensation));
  if (pay) meta.push(h("li", { class: "pay", text: pay }));
  const posted = shortDate(job.posted_at || job.created_at);
  return h(
    "li",
    { class: "job-card", dataset: { jobId: job.job_id } },
    h("h3", {}, h("a", { href: jobPageUrl(job.job_id), text: job.title || "Untitled role" })),
    h("p", { class: "company", text: job.company || "" }),
    h("ul", { class: "meta" }, meta),
    posted ? h("p", { class: "posted" }, "Posted ", h("time", { datetime: job.posted_at || job.created_at, text: posted })) : null,
  );
}

async function fetchPage(state, cursor) {
  if (inFlight) inFlight.abort();
  inFlight = new AbortController();
  const params = stateParams(state);
  params.set("limit", String(PAGE_SIZE));
  if (cursor) params.set("cursor", cursor);
  return api(`/jobs?${params}`, { signal: inFlight.signal });
}

async function search(state) {
  input.value = state.q;
  sortSelect.value = state.sort;
  statusLine.textContent = "Searching…";
  document.title = state.q ? `${state.q} · Jobs · Unified Job Board` : "Jobs · Unified Job Board";
  try {
    const page = await fetchPage(state, null);
    const jobs = Array.isArray(page && page.data) ? page.data : [];
    results.replaceChildren(...jobs.map(jobItem));
    renderFacets(page && page.facets, state);
    nextCursor = (page && page.next_cursor) || null;
    loadMore.hidden = !nextCursor;
    const total = Number.isFinite(page && page.total) ? page.total : jobs.length;
    statusLine.textContent = total === 1 ? "1 job" : `${total.toLocaleString("en")} jobs`;
    if (!jobs.length) statusLine.textContent = "No jobs match. Try fewer words or filters.";
  } catch (exc) {
    if (exc && exc.name === "AbortError") return;
    results.replaceChildren();
    loadMore.hidden = true;
    statusLine.textContent = exc instanceof ApiError ? exc.message : "Something went wrong.";
  }
}

async function onLoadMore() {
  if (!nextCursor) return;
  loadMore.disabled = true;
  const firstNew = results.children.length;
  try {
    const page = await fetchPage(readState(), nextCursor);
    const jobs = Array.isArray(page && page.data) ? page.data : [];
    results.append(...jobs.map(jobItem));
    nextCursor = (page && page.next_cursor) || null;
    loadMore.hidden = !nextCursor;
    // Move focus to the first new result so keyboard and screen-reader users continue from there.
    const link = results.children[firstNew] && results.children[firstNew].querySelector("a");
    if (link) link.focus();
  } catch (exc) {
    if (exc && exc.name === "AbortError") return;
    statusLine.textContent = exc instanceof ApiError ? exc.message : "Something went wrong.";
  } finally {
    loadMore.disabled = false;
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const state = readState();
  state.q = input.value.trim();
  writeState(state);
  search(state);
});
sortSelect.addEventListener("change", () => {
  const state = readState();
  state.sort = sortSelect.value;
  writeState(state);
  search(state).then(() => sortSelect.focus());
});
clearButton.addEventListener("click", () => {
  const { q, sort } = readState();
  const state = { q, sort, filters: {} };
  writeState(state);
  search(state).then(() => input.focus());
});
loadMore.addEventListener("click", onLoadMore);
window.addEventListener("popstate", () => search(readState()));

// On a phone the filters start folded so the results come first; the summary opens them.
if (window.matchMedia("(max-width: 48rem)").matches) document.getElementById("filters-details").open = false;

search(readState());
