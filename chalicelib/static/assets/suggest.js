// Suggestions while a search is typed: the search box becomes an editable combobox with a list of job
// titles, companies and places (WAI-ARIA 1.2 combobox pattern, list autocomplete). Down/Up move through
// the suggestions (Down opens the list), Enter takes the highlighted one (otherwise the form submits
// what was typed), Escape closes the list (a second Escape clears the box), and a click takes one too.
// The suggestions come from `GET /jobs/suggest`; without JavaScript the box is a plain search field.
import { api, h } from "./api.js";

const MIN_LETTERS = 3; // the API completes the last word from three letters
const DELAY_MS = 120; // wait for a pause in typing before asking
const KINDS = [
  ["titles", "Job title"],
  ["companies", "Company"],
  ["places", "Place"],
];

export function attachSuggestions(input, { onPick }) {
  const listId = `${input.id}-suggestions`;
  const list = h("ul", { id: listId, role: "listbox", class: "suggestions", "aria-label": "Suggestions", hidden: true });
  input.parentElement.append(list);
  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-controls", listId);
  input.setAttribute("aria-expanded", "false");

  let items = [];
  let active = -1;
  let timer = null;
  let inFlight = null;
  let asked = ""; // the text the shown suggestions are for
  let lastFound = {};

  function close() {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  }

  function highlight(index) {
    const options = list.querySelectorAll("[role=option]");
    options.forEach((option, n) => option.setAttribute("aria-selected", String(n === index)));
    active = index;
    if (index < 0) {
      input.removeAttribute("aria-activedescendant");
      return;
    }
    input.setAttribute("aria-activedescendant", options[index].id);
    options[index].scrollIntoView({ block: "nearest" });
  }

  function show(found) {
    items = KINDS.flatMap(([kind, label]) => (found[kind] || []).map((item) => ({ kind, label, text: item.text })));
    list.replaceChildren(
      ...items.map((item, n) =>
        h(
          "li",
          { id: `${listId}-${n}`, role: "option", "aria-selected": "false", "data-index": String(n) },
          h("span", { class: "suggestion-text" }, item.text),
          h("span", { class: "suggestion-kind" }, ` ${item.label}`),
        ),
      ),
    );
    active = -1;
    if (!items.length) return close();
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
    input.removeAttribute("aria-activedescendant");
  }

  async function ask() {
    const text = input.value;
    const last = text.trim().split(/\s+/).pop() || "";
    if (last.length < MIN_LETTERS) return close();
    if (text === asked) return show(lastFound);
    if (inFlight) inFlight.abort();
    inFlight = new AbortController();
    try {
      const found = await api(`/jobs/suggest?${new URLSearchParams({ q: text })}`, { signal: inFlight.signal });
      asked = text;
      lastFound = found || {};
      if (input.value === text && document.activeElement === input) show(lastFound);
    } catch (exc) {
      if (!exc || exc.name !== "AbortError") close(); // suggestions are a help: a failure just shows none
    }
  }

  function pick(index) {
    const item = items[index];
    if (!item) return;
    close();
    onPick(item);
  }

  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(ask, DELAY_MS);
  });
  input.addEventListener("keydown", (event) => {
    const open = !list.hidden;
    if (event.key === "ArrowDown") {
      event.preventDefault();
      if (!open) return void ask();
      highlight(active + 1 >= items.length ? 0 : active + 1);
    } else if (event.key === "ArrowUp" && open) {
      event.preventDefault();
      highlight(active <= 0 ? items.length - 1 : active - 1);
    } else if (event.key === "Enter" && open && active >= 0) {
      event.preventDefault();
      pick(active);
    } else if (event.key === "Escape") {
      if (open) {
        event.preventDefault();
        close();
      } else if (input.value) {
        event.preventDefault();
        input.value = "";
      }
    } else if (event.key === "Tab") {
      close();
    }
  });
  input.addEventListener("blur", () => setTimeout(close, 150)); // after a click on an option lands
  list.addEventListener("mousedown", (event) => event.preventDefault()); // keep the focus in the box
  list.addEventListener("click", (event) => {
    const option = event.target.closest("[role=option]");
    if (option) pick(Number(option.dataset.index));
  });
  input.form.addEventListener("submit", close);
}
