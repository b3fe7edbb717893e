// The board. The server renders the first results, filters and pagination (the page works without
// JavaScript); this script makes filters apply at once, loads more results in place (the number of pages
// shown lives in the URL, so Back and reload come back to the same list and scroll position), turns the
// filters into a sheet on phones, and shows failures with a Retry.
import { api, h, humanError, humanize, jobPageUrl, locationNames, payText, relativeDate, shortDate } from "./api.js";
import { attachSuggestions } from "./suggest.js";

const FACETS = [
  ["remote", "Remote"],
  ["employment_type", "Employment type"],
  ["location", "Location"],
  ["company", "Company"],
  ["provider", "Source ATS"],
  ["department", "Department"],
];
// Single-valued filters beyond the facets: the "more filters" fields (date posted, pay, distance).
const MORE_FILTERS = [
  ["posted_within", "Date posted"],
  ["pay_min", "Pay at least"],
  ["pay_currency", "Pay currency"],
  ["shows_pay", "Pay"],
  ["near", "Near"],
  ["radius_km", "Within"],
];
const MORE_NAMES = MORE_FILTERS.map(([name]) => name);
const POSTED_LABELS = { "24h": "Past 24 hours", "3d": "Past 3 days", "7d": "Past week", "30d": "Past month" };
const LABELS = Object.fromEntries([...FACETS, ...MORE_FILTERS]);
const UNPREFIXED = new Set(["remote", "posted_within", "shows_pay"]);
const FILTER_NAMES = [...FACETS.map(([name]) => name), ...MORE_NAMES];
const FACET_PREVIEW = 8;
const PAGE_SIZE = 20;
const MAX_LIMIT = 100;
const SORTS = new Set(["newest", "relevance"]);
const PHONE = window.matchMedia("(max-width: 48rem)");

const $ = (id) => document.getElementById(id);
const searchForm = $("search-form");
const input = $("q");
const sortSelect = $("sort");
const searchFilters = $("search-filters");
const filtersPanel = $("filters");
const filtersForm = $("filters-form");
const facetsBox = $("facets");
const moreBox = $("more-filters");
const toggle = $("filters-toggle");
const filterCount = $("filter-count");
const showButton = $("show-results");
const clearLink = $("clear-filters");
const chips = $("chips");
const statusBox = $("status-box");
const statusLine = $("status");
const results = $("results");
const pager = $("pager");
const alertSearch = $("alert-search");

document.documentElement.classList.add("js");

let nextCursor = results.dataset.nextCursor || null;
let pagesShown = Number(results.dataset.page) || 1;
let inFlight = null;
let lastTotal = null;

function readState() {
  const params = new URLSearchParams(location.search);
  const filters = {};
  for (const name of FILTER_NAMES) {
    const values = params.getAll(name).filter((value) => value.trim() !== "");
    if (values.length) filters[name] = MORE_NAMES.includes(name) ? values.slice(0, 1) : values;
  }
  if (!filters.near) delete filters.radius_km; // a radius says nothing without a place
  const sort = params.get("sort") || "";
  const page = Math.min(Math.max(Number.parseInt(params.get("page") || "1", 10) || 1, 1), MAX_LIMIT / PAGE_SIZE);
  return { q: (params.get("q") || "").trim(), sort: SORTS.has(sort) ? sort : "", filters, page };
}

function stateParams(state, { page = true } = {}) {
  const params = new URLSearchParams();
  if (state.q) params.set("q", state.q);
  if (state.sort) params.set("sort", state.sort);
  for (const name of FILTER_NAMES) for (const value of state.filters[name] || []) params.append(name, value);
  if (page && state.page > 1) params.set("page", String(state.page));
  return params;
}

function boardUrl(state) {
  const query = stateParams(state).toString();
  return location.pathname + (query ? `?${query}` : "");
}

function writeState(state, { replace = false } = {}) {
  const url = boardUrl(state);
  if (url === location.pathname + location.search) return;
  (replace ? history.replaceState : history.pushState).call(history, null, "", url);
}

function facetLabel(name, value) {
  if (name === "posted_within") return POSTED_LABELS[value] || value;
  if (name === "shows_pay") return value === "true" ? "Shows pay" : "Does not show pay";
  if (name === "radius_km") return `${value} km`;
  if (name === "remote") return value === "true" ? "Remote" : value === "false" ? "On-site" : humanize(value);
  if (name === "employment_type" || name === "provider") return humanize(value);
  return value;
}

function countText(total) {
  return total === 1 ? "1 job" : `${total.toLocaleString("en")} jobs`;
}

/** Facet counts as [value, count] pairs, from {"value": count} or [{"value","count"}]. */
function facetEntries(raw) {
  if (Array.isArray(raw)) return raw.map((item) => [String(item.value ?? item.key ?? ""), Number(item.count) || 0]);
  if (raw && typeof raw === "object") return Object.entries(raw).map(([value, count]) => [value, Number(count) || 0]);
  return [];
}

function facetItem(name, value, count, index, checked) {
  const id = `facet-${name}-${index}`;
  return h("li", {},
    h("input", { type: "checkbox", id, name, value, checked }),
    h("label", { for: id }, facetLabel(name, value), " ", h("span", { class: "count", text: `(${count})` })));
}

function renderFacets(facets, state) {
  const open = new Set([...facetsBox.querySelectorAll("details.more-values[open]")].map((d) => d.closest("fieldset").dataset.facet));
  facetsBox.replaceChildren();
  for (const [name, label] of FACETS) {
    const selected = new Set(state.filters[name] || []);
    const entries = facetEntries(facets && facets[name]);
    const known = new Set(entries.map(([value]) => value));
    for (const value of selected) if (!known.has(value)) entries.push([value, 0]);
    if (!entries.length) continue;
    entries.sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    const preview = entries.length <= FACET_PREVIEW + 2;
    const shown = [];
    const more = [];
    entries.forEach(([value, count], index) => {
      const item = facetItem(name, value, count, index, selected.has(value));
      (preview || index < FACET_PREVIEW || selected.has(value) ? shown : more).push(item);
    });
    const fieldset = h("fieldset", { class: "facet", dataset: { facet: name } },
      h("legend", { text: label }), h("ul", { class: "facet-values" }, shown));
    if (more.length) {
      fieldset.append(h("details", { class: "more-values", open: open.has(name) },
        h("summary", { text: `Show all ${entries.length}` }), h("ul", { class: "facet-values" }, more)));
    }
    facetsBox.append(fieldset);
  }
  if (!facetsBox.children.length) facetsBox.append(h("p", { class: "hint", text: "No filters for these results." }));
}

/** The more-filters fields as the state says, and the date buckets' counts for this search. */
function renderMore(facets, state) {
  const chosen = (name) => (state.filters[name] || [""])[0];
  for (const radio of moreBox.querySelectorAll('input[name="posted_within"]')) radio.checked = radio.value === chosen("posted_within");
  for (const name of ["pay_min", "pay_currency", "near"]) {
    const field = moreBox.querySelector(`[name="${name}"]`);
    if (field !== document.activeElement) field.value = chosen(name);
  }
  moreBox.querySelector('[name="shows_pay"]').checked = chosen("shows_pay") === "true";
  if (chosen("radius_km")) moreBox.querySelector('[name="radius_km"]').value = chosen("radius_km");
  const counts = (facets && facets.posted_within) || {};
  for (const count of moreBox.querySelectorAll("[data-bucket]")) count.textContent = `(${Number(counts[count.dataset.bucket]) || 0})`;
}

function readMore() {
  const data = new FormData(filtersForm);
  const values = {};
  for (const name of MORE_NAMES) {
    const value = String(data.get(name) || "").trim();
    if (value) values[name] = [value];
  }
  if (!values.near) delete values.radius_km;
  return values;
}

function renderActive(state) {
  const active = FILTER_NAMES.flatMap((name) => (state.filters[name] || []).map((value) => [name, value]));
  chips.replaceChildren(...active.map(([name, value]) => {
    const label = UNPREFIXED.has(name) ? facetLabel(name, value) : `${LABELS[name]}: ${facetLabel(name, value)}`;
    const remaining = { ...state, filters: { ...state.filters, [name]: state.filters[name].filter((v) => v !== value) }, page: 1 };
    return h("li", {}, h("a", {
      class: "chip", href: boardUrl(remaining), dataset: { name, value }, "aria-label": `Remove filter ${label}`,
    }, label, " ", h("span", { "aria-hidden": "true", text: "×" })));
  }));
  chips.hidden = !active.length;
  filterCount.textContent = String(active.length);
  filterCount.hidden = !active.length;
  toggle.setAttribute("aria-label", active.length ? `Filters, ${active.length} active` : "Filters");
  clearLink.hidden = !active.length;
  clearLink.href = boardUrl({ ...state, filters: {}, page: 1 });
  // The search form carries the filters, so a new search keeps them.
  searchFilters.replaceChildren(...active.map(([name, value]) => h("input", { type: "hidden", name, value })));
  // "Get these jobs by email" signs up for the search on screen.
  const alertFields = state.q ? [["q", state.q], ...active] : active;
  alertSearch.replaceChildren(...alertFields.map(([name, value]) => h("input", { type: "hidden", name, value })));
}

function jobItem(job) {
  const locations = locationNames(job.locations);
  const meta = [];
  if (locations.length) meta.push(h("li", { class: "location" }, locations.join(" · ")));
  if (job.remote === true) meta.push(h("li", { class: "tag remote", text: "Remote" }));
  if (job.employment_type) meta.push(h("li", { class: "tag", text: humanize(job.employment_type) }));
  const pay = payText(job.compensation_summary);
  if (pay) meta.push(h("li", { class: "pay", text: pay }));
  const posted = relativeDate(job.posted_at);
  return h("li", { class: "job-card" },
    h("h3", {}, h("a", { href: jobPageUrl(job.job_id), text: job.title || "Untitled role" })),
    h("p", { class: "company", text: job.company || "" }),
    h("ul", { class: "meta" }, meta),
    posted ? h("p", { class: "posted" }, "Posted ", h("time", { datetime: job.posted_at, title: shortDate(job.posted_at), text: posted })) : null);
}

function setStatus(text, retry) {
  statusLine.textContent = text;
  const old = $("retry");
  if (old) old.remove();
  if (retry) statusBox.append(h("button", { type: "button", id: "retry", class: "secondary", text: "Retry", onclick: retry }));
}

function renderPager() {
  pager.replaceChildren();
  if (nextCursor) pager.append(h("button", { type: "button", id: "load-more", class: "secondary", text: "Load more", onclick: onLoadMore }));
}

async function fetchPage(state, cursor, limit) {
  if (inFlight) inFlight.abort();
  inFlight = new AbortController();
  const params = stateParams(state, { page: false });
  params.set("limit", String(limit));
  if (cursor) params.set("cursor", cursor);
  return api(`/jobs?${params}`, { signal: inFlight.signal });
}

async function search(state) {
  input.value = state.q;
  sortSelect.value = state.sort;
  renderActive(state);
  setStatus("Searching…");
  showButton.textContent = "Show jobs";
  document.title = `${state.q ? `${state.q} · ` : ""}Jobs · ${document.querySelector(".brand").textContent}`;
  try {
    const page = await fetchPage(state, null, PAGE_SIZE * state.page);
    const jobs = Array.isArray(page && page.data) ? page.data : [];
    results.replaceChildren(...jobs.map(jobItem));
    renderFacets(page && page.facets, state);
    renderMore(page && page.facets, state);
    nextCursor = (page && page.next_cursor) || null;
    pagesShown = state.page;
    renderPager();
    lastTotal = Number.isFinite(page && page.total) ? page.total : jobs.length;
    setStatus(jobs.length ? countText(lastTotal) : "No jobs match. Try fewer words or filters.");
    showButton.textContent = `Show ${countText(lastTotal)}`;
  } catch (exc) {
    if (exc && exc.name === "AbortError") return;
    const { message, retry } = humanError(exc);
    setStatus(`We couldn't load jobs. ${message}`, retry ? () => search(readState()) : null);
  }
}

async function onLoadMore() {
  if (!nextCursor) return;
  const button = $("load-more");
  button.disabled = true;
  const firstNew = results.children.length;
  try {
    const page = await fetchPage(readState(), nextCursor, PAGE_SIZE);
    const jobs = Array.isArray(page && page.data) ? page.data : [];
    results.append(...jobs.map(jobItem));
    nextCursor = (page && page.next_cursor) || null;
    pagesShown += 1;
    // The page count goes into the URL (up to what one request can bring back), so Back returns here.
    const fromCursor = new URLSearchParams(location.search).has("cursor");
    if (!fromCursor && results.children.length <= MAX_LIMIT) writeState({ ...readState(), page: pagesShown }, { replace: true });
    renderPager();
    setStatus(countText(lastTotal ?? results.children.length));
    // Keyboard and screen-reader users continue from the first new result.
    const link = results.children[firstNew] && results.children[firstNew].querySelector("a");
    if (link) link.focus();
  } catch (exc) {
    if (exc && exc.name === "AbortError") return;
    const { message, retry } = humanError(exc);
    setStatus(`We couldn't load more jobs. ${message}`, retry ? onLoadMore : null);
    button.disabled = false;
  }
}

function restoreFocus(key) {
  // The facet list is re-rendered with new counts; keep the keyboard user on the checkbox they toggled.
  for (const box of facetsBox.querySelectorAll("input[type=checkbox]")) {
    if (`${box.name}\u0000${box.value}` === key) return box.focus();
  }
}

function changeFilters(mutate, after) {
  const state = readState();
  mutate(state);
  state.page = 1;
  writeState(state);
  return search(state).then(after);
}

// ---- the filters sheet on phones ------------------------------------------------------------------
function openSheet() {
  filtersPanel.classList.add("open");
  toggle.setAttribute("aria-expanded", "true");
  document.body.classList.add("sheet-open");
  $("filters-heading").setAttribute("tabindex", "-1");
  $("filters-heading").focus();
}

function closeSheet({ focus = toggle } = {}) {
  if (!filtersPanel.classList.contains("open")) return;
  filtersPanel.classList.remove("open");
  toggle.setAttribute("aria-expanded", "false");
  document.body.classList.remove("sheet-open");
  if (focus) focus.focus();
}

toggle.setAttribute("aria-expanded", "false");
toggle.addEventListener("click", (event) => {
  event.preventDefault();
  openSheet();
});
$("close-filters").addEventListener("click", (event) => {
  event.preventDefault();
  closeSheet();
});
filtersPanel.addEventListener("keydown", (event) => {
  if (event.key === "Escape") closeSheet();
});
filtersForm.addEventListener("submit", (event) => {
  // "Show N jobs": the results are already up to date; on a phone, close the sheet onto them.
  event.preventDefault();
  closeSheet({ focus: statusLine.closest("section").querySelector("h2") });
  statusLine.scrollIntoView({ block: "start" });
});

// ---- events ---------------------------------------------------------------------------------------
facetsBox.addEventListener("change", (event) => {
  const box = event.target;
  if (!(box instanceof HTMLInputElement) || box.type !== "checkbox") return;
  const key = `${box.name}\u0000${box.value}`;
  changeFilters((state) => {
    const values = new Set(state.filters[box.name] || []);
    if (box.checked) values.add(box.value);
    else values.delete(box.value);
    if (values.size) state.filters[box.name] = [...values];
    else delete state.filters[box.name];
  }, () => restoreFocus(key));
});
moreBox.addEventListener("change", (event) => {
  const field = event.target;
  if (!(field instanceof HTMLInputElement || field instanceof HTMLSelectElement)) return;
  if (field instanceof HTMLInputElement && !field.checkValidity()) return; // the browser says why
  changeFilters((state) => {
    for (const name of MORE_NAMES) delete state.filters[name];
    Object.assign(state.filters, readMore());
  }, () => field.focus());
});
chips.addEventListener("click", (event) => {
  const chip = event.target.closest("a.chip");
  if (!chip) return;
  event.preventDefault();
  const { name, value } = chip.dataset;
  const index = [...chips.querySelectorAll("a.chip")].indexOf(chip);
  changeFilters((state) => {
    state.filters[name] = (state.filters[name] || []).filter((v) => v !== value);
    if (!state.filters[name].length) delete state.filters[name];
  }, () => {
    const remaining = chips.querySelectorAll("a.chip");
    (remaining[Math.min(index, remaining.length - 1)] || input).focus();
  });
});
clearLink.addEventListener("click", (event) => {
  event.preventDefault();
  changeFilters((state) => {
    state.filters = {};
  }, () => input.focus());
});
searchForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const state = readState();
  state.q = input.value.trim();
  state.page = 1;
  writeState(state);
  search(state);
});
// Suggestions while typing: a title is searched; a company or a place becomes a filter in place of the
// word typed for it ("python acm" + "Acme Robotics" -> q=python, company=Acme Robotics).
const SUGGESTION_FILTERS = { companies: "company", places: "location" };
attachSuggestions(input, {
  onPick(item) {
    if (item.kind === "titles") {
      input.value = item.text;
      searchForm.requestSubmit();
      return;
    }
    const name = SUGGESTION_FILTERS[item.kind];
    changeFilters((state) => {
      state.q = input.value.trim().split(/\s+/).slice(0, -1).join(" ");
      const values = new Set(state.filters[name] || []);
      values.add(item.text);
      state.filters[name] = [...values];
    }, () => input.focus());
  },
});
sortSelect.addEventListener("change", () => {
  const state = readState();
  state.sort = sortSelect.value;
  state.page = 1;
  writeState(state);
  search(state).then(() => sortSelect.focus());
});
window.addEventListener("popstate", () => search(readState()));

// Scroll position per URL, for browsers that reload the page on Back instead of restoring it.
const SCROLL_KEY = `board-scroll:${location.search}`;
window.addEventListener("pagehide", () => {
  try {
    sessionStorage.setItem(`board-scroll:${location.search}`, String(Math.round(window.scrollY)));
  } catch {
    // Storage disabled: the browser's own restoration still applies.
  }
});
try {
  const saved = Number(sessionStorage.getItem(SCROLL_KEY));
  const navigation = performance.getEntriesByType("navigation")[0];
  if (saved > 0 && navigation && navigation.type === "back_forward" && window.scrollY === 0) window.scrollTo(0, saved);
} catch {
  // Storage disabled.
}

// The server rendered the results (or failed to: then offer a retry); the script takes over the pager.
lastTotal = Number.parseInt(statusLine.textContent.replace(/[^0-9]/g, ""), 10);
if (!Number.isFinite(lastTotal)) lastTotal = null;
if ($("retry") || (!results.children.length && statusLine.textContent.startsWith("We couldn't"))) {
  const link = $("retry");
  if (link) link.remove();
  setStatus(statusLine.textContent, () => search(readState()));
} else {
  renderPager();
}
showButton.textContent = lastTotal != null ? `Show ${countText(lastTotal)}` : showButton.textContent;
PHONE.addEventListener("change", () => closeSheet({ focus: null }));
